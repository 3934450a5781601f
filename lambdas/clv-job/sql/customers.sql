-- One row per customer from the accepted orders of `classified` (SPEC "Definitions"): same-day
-- purchases merge into one purchase occasion; frequency counts purchase days after the first;
-- monetary value is the mean revenue of the repeat purchase days. Dates leave as day numbers
-- (days since 1970-01-01) so both engines hand back plain integers.
-- Money is summed exactly, as DECIMAL(38, 6) (amounts rounded to a millionth), and turned into DOUBLE
-- only after the sums: a parallel SUM of doubles depends on the order the threads add in, and its
-- last bits would change the fits' results from run to run.
WITH purchase_days AS (
  SELECT
    customer_id,
    order_day,
    SUM(CAST(amount AS DECIMAL(38, 6))) AS day_revenue,
    COUNT(*) AS day_orders,
    -- several orders on the first day: the lowest order_id decides the acquisition channel
    MIN_BY(channel, order_id) AS day_channel
  FROM classified
  WHERE outcome = 'accepted'
  GROUP BY customer_id, order_day
),
per_customer AS (
  SELECT
    customer_id,
    MIN(order_day) AS first_day,
    MAX(order_day) AS last_day,
    COUNT(*) AS purchase_days,
    SUM(day_orders) AS orders,
    SUM(day_revenue) AS total_revenue,
    MIN_BY(day_revenue, order_day) AS first_day_revenue,
    MIN_BY(day_channel, order_day) AS acquisition_channel
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
  CAST(total_revenue AS DOUBLE) / orders AS avg_order_value
FROM per_customer
ORDER BY customer_id
