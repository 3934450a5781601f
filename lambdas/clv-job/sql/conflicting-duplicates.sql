-- A few conflicting duplicates, each beside the copy that was kept: a repeated order key whose
-- customer, date or amount differs (e.g. two stores reusing order numbers). Examples for the
-- summary, the report and the warning; `counts.conflicting_duplicates` has how many there are.
SELECT
  order_id,
  order_key_extra,
  source_file,
  source_line,
  customer_id,
  CAST(order_day AS VARCHAR) AS order_date,
  CAST(amount AS DOUBLE) AS amount,
  kept_source_file,
  kept_source_line,
  kept_customer_id,
  CAST(kept_order_day AS VARCHAR) AS kept_order_date,
  CAST(kept_amount AS DOUBLE) AS kept_amount
FROM classified
WHERE conflicting
ORDER BY order_id, order_key_extra, source_file, source_line
LIMIT 10
