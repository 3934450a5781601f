-- One row per input row with its single outcome (SPEC "Input contract"), judged in this order:
-- rejected with one reason, then a repeat of an order key already seen (the copy from the last file
-- in name order, then the last line, is kept), then a non-purchase status, else accepted.
-- Reads the relation `orders`: the canonical rows ingest wrote (CANONICAL_ORDER_COLUMNS), by name.
-- Every text was parsed at ingest (trimmed, typed, judged into parse_reason): this text only compares
-- typed values. No TRIM, no regex, no aggregate whose NULL handling differs between engines, so
-- DuckDB and Athena (Trino) give the same rows.
-- A repeat whose customer, date or amount differs from the kept copy is a conflicting duplicate:
-- still a duplicate in the accounting identity, flagged (`conflicting`) with the kept copy beside it.
-- Where a row came from is carried for rejected and conflicting rows only, and what else only they
-- need packed in one JSON array of texts, `detail`: a rejected row's raw texts (line, order_id,
-- customer_id, order_date, amount, channel, status), a conflicting duplicate's kept copy (source_file,
-- source_line, customer_id, order_date, amount). The relation stays as narrow as the typed columns
-- elsewhere: DuckDB stores a NULL in a full slot, and five columns of the kept copy's took ~100 MB
-- of its memory at 1 M customers, every row NULL. The raw texts fall back to the typed values
-- (COALESCE, CAST to text) only in that last step, for rejected rows: done for every row before the
-- de-duplication window, the casts of 2.3 M dates and amounts to text took a third of DuckDB's time
-- on this relation at 1 M customers.
WITH judged AS (
  SELECT
    source_file,
    source_line,
    order_id,
    order_key_extra,
    customer_id,
    order_date AS order_day,
    amount,
    channel,
    status,
    raw_line,
    -- the texts as read, of the rows rejected here only: a valid row's are never shown
    CASE WHEN parse_reason IS NOT NULL OR NOT {{valid_row}} THEN raw_order_id END AS raw_order_id,
    CASE WHEN parse_reason IS NOT NULL OR NOT {{valid_row}} THEN raw_customer_id END AS raw_customer_id,
    CASE WHEN parse_reason IS NOT NULL OR NOT {{valid_row}} THEN raw_order_date END AS raw_order_date,
    CASE WHEN parse_reason IS NOT NULL OR NOT {{valid_row}} THEN raw_amount END AS raw_amount,
    CASE WHEN parse_reason IS NOT NULL OR NOT {{valid_row}} THEN raw_channel END AS raw_channel,
    CASE WHEN parse_reason IS NOT NULL OR NOT {{valid_row}} THEN raw_status END AS raw_status,
    CASE
      WHEN parse_reason IS NOT NULL THEN parse_reason
      WHEN NOT {{valid_row}} THEN 'order_date_after_as_of'
    END AS reason
  FROM orders
),
-- Only an order key that repeats needs ranking: the window (a sort of every row in it) runs over the
-- valid rows of the order ids with more than one valid row (`repeated`, found by a GROUP BY on the
-- order id alone, cheaper than on the whole key and a superset of the repeated keys: the window still
-- partitions by the whole key), and every other row is its key's only copy. Rejected rows take no
-- part: their outcome is `rejected` whatever their rank, and only a valid repeat can be conflicting.
-- Ranking every row took 2.0 s of DuckDB's CPU on this relation at 1 M customers, this form 1.2 s.
-- A row is identified by its source_file and source_line (the line a record starts on in its
-- export), which is how the ranks join back.
-- `repeated` and `copies` read `orders` itself, keeping the valid rows (VALID_ROW, sql/index.ts: the
-- rule whose failures `judged` gives a reason), so each CTE is read once: DuckDB materialises a CTE
-- read more than once, and `judged`, with its raw texts, took ~290 MB there at 1 M customers.
repeated AS (
  SELECT order_id
  FROM orders
  WHERE {{valid_row}}
  GROUP BY order_id
  HAVING COUNT(*) > 1
),
copies AS (
  SELECT
    j.source_file,
    j.source_line,
    ROW_NUMBER() {{copy_window}} AS copy_rank,
    FIRST_VALUE(j.customer_id) {{copy_window}} AS kept_customer_id,
    FIRST_VALUE(j.order_day) {{copy_window}} AS kept_order_day,
    FIRST_VALUE(j.amount) {{copy_window}} AS kept_amount,
    FIRST_VALUE(j.source_file) {{copy_window}} AS kept_source_file,
    FIRST_VALUE(j.source_line) {{copy_window}} AS kept_source_line
  FROM (
    SELECT source_file, source_line, order_id, order_key_extra, customer_id, order_date AS order_day, amount
    FROM orders
    WHERE {{valid_row}}
  ) j
  JOIN repeated r ON r.order_id = j.order_id
),
ranked AS (
  SELECT
    j.*,
    COALESCE(c.copy_rank, 1) AS copy_rank,
    c.kept_customer_id,
    c.kept_order_day,
    c.kept_amount,
    c.kept_source_file,
    c.kept_source_line
  FROM judged j
  LEFT JOIN copies c ON c.source_file = j.source_file AND c.source_line = j.source_line
),
flagged AS (
  SELECT
    *,
    reason IS NULL AND copy_rank > 1
      AND (customer_id <> kept_customer_id OR order_day <> kept_order_day OR amount <> kept_amount) AS conflicting
  FROM ranked
)
SELECT
  CASE WHEN reason IS NOT NULL OR conflicting THEN source_file END AS source_file,
  CASE WHEN reason IS NOT NULL OR conflicting THEN source_line END AS source_line,
  CASE
    WHEN reason IS NOT NULL
      THEN CAST(ARRAY[
        raw_line,
        COALESCE(raw_order_id, order_id),
        COALESCE(raw_customer_id, customer_id),
        COALESCE(raw_order_date, CAST(order_day AS VARCHAR)),
        COALESCE(raw_amount, CAST(amount AS VARCHAR)),
        COALESCE(raw_channel, channel),
        COALESCE(raw_status, status)
      ] AS JSON)
    WHEN conflicting
      THEN CAST(ARRAY[
        CAST(kept_source_file AS VARCHAR),
        CAST(kept_source_line AS VARCHAR),
        kept_customer_id,
        CAST(kept_order_day AS VARCHAR),
        CAST(kept_amount AS VARCHAR)
      ] AS JSON)
  END AS detail,
  order_id,
  order_key_extra,
  customer_id,
  order_day,
  amount,
  channel,
  reason,
  CASE
    WHEN reason IS NOT NULL THEN 'rejected'
    WHEN copy_rank > 1 THEN 'duplicate'
    WHEN status IN ({{non_purchase_statuses}}) THEN 'non_purchase'
    ELSE 'accepted'
  END AS outcome,
  conflicting
FROM flagged
