-- A few conflicting duplicates, each beside the copy that was kept: a repeated order key whose
-- customer, date or amount differs (e.g. two stores reusing order numbers). Examples for the
-- summary, the report and the warning; `counts.conflicting_duplicates` has how many there are.
-- The kept copy comes as texts packed by `classified` in `detail`; its amount is the DECIMAL's text,
-- so it reads back as the same DECIMAL before it turns into DOUBLE, as the repeat's does.
SELECT
  order_id,
  order_key_extra,
  source_file,
  source_line,
  customer_id,
  CAST(order_day AS VARCHAR) AS order_date,
  CAST(amount AS DOUBLE) AS amount,
  json_extract_scalar(detail, '$[0]') AS kept_source_file,
  CAST(json_extract_scalar(detail, '$[1]') AS BIGINT) AS kept_source_line,
  json_extract_scalar(detail, '$[2]') AS kept_customer_id,
  json_extract_scalar(detail, '$[3]') AS kept_order_date,
  CAST(CAST(json_extract_scalar(detail, '$[4]') AS DECIMAL(38, 6)) AS DOUBLE) AS kept_amount
FROM classified
WHERE conflicting
ORDER BY order_id, order_key_extra, source_file, source_line
LIMIT 10
