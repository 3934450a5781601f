-- The rejected rows as read, with where they came from and why.
SELECT
  source_file,
  source_row,
  raw_line,
  reason,
  raw_order_id AS order_id,
  raw_customer_id AS customer_id,
  raw_order_date AS order_date,
  raw_amount AS amount,
  raw_channel AS channel,
  raw_status AS status
FROM classified
WHERE outcome = 'rejected'
ORDER BY source_file, source_row
