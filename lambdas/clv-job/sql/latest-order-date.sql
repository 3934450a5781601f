-- The latest purchase day of a valid row, for the default as-of date (rendered with as_of = today,
-- so a row dated in the future cannot move the as-of date past the present).
-- A valid row (VALID_ROW, sql/index.ts: one `classified` gives no reason) is judged here straight
-- off the canonical rows: de-duplication cannot change the latest date, and `classified` is then built
-- once, for the as-of date this query finds, instead of also for today's.
SELECT CAST(MAX(order_date) AS VARCHAR) AS latest_order_date
FROM orders
WHERE {{valid_row}}
