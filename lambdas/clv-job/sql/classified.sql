-- One row per input row with its single outcome (SPEC "Input contract"), judged in this order:
-- rejected with one reason, then a repeat of an order_id already seen (the copy from the last file
-- in name order is kept), then a non-purchase status, else accepted.
-- Reads the relation `orders`: every field a string as read, plus source_file, source_row and
-- raw_line (the text of a record the CSV reader could not split; NULL otherwise).
-- Where a row came from and its raw text are reported for rejected rows only, so they are carried
-- for those rows alone (NULL on every other row), the raw texts packed in one JSON array `raw`
-- (line, order_id, customer_id, order_date, amount, channel, status): the relation, and the
-- de-duplication's window over it, stay as narrow as the typed columns.
-- Runs unchanged on DuckDB and on Athena (Trino): only functions both dialects share, and
-- regexp_like, which the DuckDB adapter defines as a macro.
-- Formats are checked before casting because DuckDB's casts are lenient where Trino's are not.
WITH typed AS (
  SELECT
    source_file,
    source_row,
    raw_line,
    order_id AS raw_order_id,
    customer_id AS raw_customer_id,
    order_date AS raw_order_date,
    amount AS raw_amount,
    channel AS raw_channel,
    status AS raw_status,
    NULLIF(TRIM(order_id), '') AS order_id,
    NULLIF(TRIM(customer_id), '') AS customer_id,
    -- ISO 8601 date or timestamp; the purchase day is the date as written (an offset is not applied)
    CASE
      WHEN regexp_like(TRIM(order_date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?$')
        THEN TRY_CAST(SUBSTR(TRIM(order_date), 1, 10) AS DATE)
    END AS order_day,
    -- plain decimal notation only: no currency, no thousands separator, no exponent
    CASE
      WHEN regexp_like(TRIM(amount), '^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)$')
        THEN TRY_CAST(TRIM(amount) AS DOUBLE)
    END AS amount_value,
    NULLIF(TRIM(channel), '') AS channel,
    LOWER(TRIM(status)) AS status_value
  FROM orders
),
reasoned AS (
  SELECT
    *,
    CASE
      WHEN raw_line IS NOT NULL THEN 'malformed_row'
      WHEN order_id IS NULL THEN 'missing_order_id'
      WHEN customer_id IS NULL THEN 'missing_customer_id'
      WHEN order_day IS NULL THEN 'invalid_order_date'
      WHEN amount_value IS NULL THEN 'invalid_amount'
      WHEN amount_value < 0 THEN 'negative_amount'
      WHEN order_day > DATE '{{as_of}}' THEN 'order_date_after_as_of'
    END AS reason
  FROM typed
),
judged AS (
  SELECT
    source_file,
    source_row,
    order_id,
    customer_id,
    order_day,
    amount_value,
    channel,
    status_value,
    reason,
    CASE
      WHEN reason IS NOT NULL
        THEN CAST(ARRAY[raw_line, raw_order_id, raw_customer_id, raw_order_date, raw_amount, raw_channel, raw_status] AS JSON)
    END AS raw
  FROM reasoned
),
ranked AS (
  SELECT
    *,
    CASE
      WHEN reason IS NULL THEN ROW_NUMBER() OVER (
        PARTITION BY reason IS NULL, order_id
        ORDER BY source_file DESC, source_row DESC
      )
    END AS copy_rank
  FROM judged
)
SELECT
  CASE WHEN reason IS NOT NULL THEN source_file END AS source_file,
  CASE WHEN reason IS NOT NULL THEN source_row END AS source_row,
  raw,
  order_id,
  customer_id,
  order_day,
  amount_value AS amount,
  channel,
  reason,
  CASE
    WHEN reason IS NOT NULL THEN 'rejected'
    WHEN copy_rank > 1 THEN 'duplicate'
    WHEN status_value IN ({{non_purchase_statuses}}) THEN 'non_purchase'
    ELSE 'accepted'
  END AS outcome
FROM ranked
