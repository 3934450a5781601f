-- One row per customer from `purchase_days` (SPEC "Definitions"): frequency counts purchase days
-- after the first; monetary value is the mean revenue of the repeat purchase days. Dates leave as day
-- numbers (days since 1970-01-01) so both engines hand back plain integers.
-- No ORDER BY here: Trino (and so Athena) drops the ORDER BY of a relation used as a subquery or
-- common table expression; the queries over it order their own results.
-- Money stays DECIMAL(38, 6) through the sums and turns into DOUBLE only after them (see
-- `purchase_days`). The first purchase day's revenue and channel (the acquisition channel: the first
-- order's, '' for none until NULLIF) come by MIN_BY over the day, unique per customer; neither value
-- is ever NULL, so DuckDB's and Trino's MIN_BY agree.
-- `first_month` (year * 12 + month of the first purchase day), `first_day` and `second_day` (the
-- second purchase day, NULL with one) are for `acquisitionMonths`; the `customers` query leaves them
-- out. The second day is the larger of the two smallest days (MIN(x, 2): at most two, in an order
-- neither engine promises), read at positions that exist only: Trino fails on an index past the end,
-- and a CASE around it is no promise that it is never evaluated.
WITH per_customer AS (
  SELECT
    customer_id,
    MIN(order_day) AS first_day,
    MAX(order_day) AS last_day,
    COUNT(*) AS purchase_days,
    SUM(day_orders) AS orders,
    SUM(day_revenue) AS total_revenue,
    MIN_BY(day_revenue, order_day) AS first_day_revenue,
    MIN_BY(first_channel, order_day) AS first_channel,
    MIN(order_day, 2) AS first_days
  FROM purchase_days
  GROUP BY customer_id
)
SELECT
  customer_id,
  CAST(DATE_DIFF('day', DATE '1970-01-01', first_day) AS INTEGER) AS first_order_day,
  CAST(DATE_DIFF('day', DATE '1970-01-01', last_day) AS INTEGER) AS last_order_day,
  NULLIF(first_channel, '') AS acquisition_channel,
  SUBSTR(CAST(first_day AS VARCHAR), 1, 7) AS cohort,
  CAST(orders AS INTEGER) AS orders,
  CAST(purchase_days - 1 AS INTEGER) AS frequency,
  CAST(DATE_DIFF('day', first_day, last_day) AS INTEGER) AS recency_days,
  CAST(DATE_DIFF('day', first_day, DATE '{{as_of}}') AS INTEGER) AS tenure_days,
  CAST(total_revenue AS DOUBLE) AS total_revenue,
  CASE
    WHEN purchase_days > 1 THEN CAST(total_revenue - first_day_revenue AS DOUBLE) / (purchase_days - 1)
    ELSE 0E0
  END AS monetary_value,
  CAST(total_revenue AS DOUBLE) / orders AS avg_order_value,
  CAST(YEAR(first_day) * 12 + MONTH(first_day) AS INTEGER) AS first_month,
  first_day,
  CASE WHEN purchase_days > 1 THEN GREATEST(first_days[1], first_days[LEAST(purchase_days, 2)]) END AS second_day
FROM per_customer
