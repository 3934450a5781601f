-- The rejected rows as read, with where they came from and why.
-- `detail` holds the texts as read, packed in a JSON array by `classified`; json_extract_scalar is
-- Trino's (the DuckDB adapter defines it as a macro).
SELECT
  source_file,
  CAST(source_line AS INTEGER) AS source_row,
  json_extract_scalar(detail, '$[0]') AS raw_line,
  reason,
  json_extract_scalar(detail, '$[1]') AS order_id,
  json_extract_scalar(detail, '$[2]') AS customer_id,
  json_extract_scalar(detail, '$[3]') AS order_date,
  json_extract_scalar(detail, '$[4]') AS amount,
  json_extract_scalar(detail, '$[5]') AS channel,
  json_extract_scalar(detail, '$[6]') AS status
FROM classified
WHERE outcome = 'rejected'
ORDER BY source_file, source_line
