-- One row per customer from `purchase_days` (SPEC "Definitions"): frequency counts purchase days
-- after the first; monetary value is the mean revenue of the repeat purchase days. Dates leave as day
-- numbers (days since 1970-01-01) so both engines hand back plain integers.
-- No ORDER BY here: Trino (and so Athena) drops the ORDER BY of a relation used as a subquery or
-- common table expression; the queries over it order their own results.
-- Money stays DECIMAL(38, 6) through the sums and turns into DOUBLE only after them (see
-- `purchase_days`). The acquisition channel is the first order's (`purchase_days.first_channel`).
-- `first_month` (year * 12 + month of the first purchase day) is for `acquisitionMonths`' month of
-- age; the `customers` query leaves it out.
WITH per_customer AS (
  SELECT
    customer_id,
    MIN(order_day) AS first_day,
    MAX(order_day) AS last_day,
    COUNT(*) AS purchase_days,
    SUM(day_orders) AS orders,
    SUM(day_revenue) AS total_revenue,
    SUM(CASE WHEN day_rank = 1 THEN day_revenue END) AS first_day_revenue,
    MAX(first_channel) AS acquisition_channel
  FROM purchase_days
  GROUP BY customer_id
)
SELECT
  customer_id,
  CAST(DATE_DIFF('day', DATE '1970-01-01', first_day) AS INTEGER) AS first_order_day,
  CAST(DATE_DIFF('day', DATE '1970-01-01', last_day) AS INTEGER) AS last_order_day,
  acquisition_channel,
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
  CAST(YEAR(first_day) * 12 + MONTH(first_day) AS INTEGER) AS first_month
FROM per_customer
