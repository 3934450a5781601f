-- One row per customer from the accepted orders of `classified` (SPEC "Definitions"): same-day
-- purchases merge into one purchase occasion; frequency counts purchase days after the first;
-- monetary value is the mean revenue of the repeat purchase days. Dates leave as day numbers
-- (days since 1970-01-01) so both engines hand back plain integers.
-- No ORDER BY here: Trino (and so Athena) drops the ORDER BY of a relation used as a subquery or
-- common table expression; the queries over it order their own results.
-- Money is summed exactly, as DECIMAL(38, 6) (amounts rounded to a millionth), and turned into DOUBLE
-- only after the sums: a parallel SUM of doubles depends on the order the threads add in, and its
-- last bits would change the fits' results from run to run.
-- The acquisition channel is the channel of the customer's first order (by day, then order key),
-- NULL when that order has none: ranked explicitly, because MIN_BY skips NULLs on DuckDB and not on
-- Trino.
WITH accepted AS (
  SELECT
    customer_id,
    order_day,
    amount,
    channel,
    ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY order_day, order_id, order_key_extra) AS order_rank
  FROM classified
  WHERE outcome = 'accepted'
),
purchase_days AS (
  SELECT
    customer_id,
    order_day,
    SUM(CAST(amount AS DECIMAL(38, 6))) AS day_revenue,
    COUNT(*) AS day_orders
  FROM accepted
  GROUP BY customer_id, order_day
),
per_customer AS (
  SELECT
    customer_id,
    MIN(order_day) AS first_day,
    MAX(order_day) AS last_day,
    COUNT(*) AS purchase_days,
    SUM(day_orders) AS orders,
    SUM(day_revenue) AS total_revenue
  FROM purchase_days
  GROUP BY customer_id
)
SELECT
  c.customer_id,
  CAST(DATE_DIFF('day', DATE '1970-01-01', c.first_day) AS INTEGER) AS first_order_day,
  CAST(DATE_DIFF('day', DATE '1970-01-01', c.last_day) AS INTEGER) AS last_order_day,
  f.channel AS acquisition_channel,
  SUBSTR(CAST(c.first_day AS VARCHAR), 1, 7) AS cohort,
  CAST(c.orders AS INTEGER) AS orders,
  CAST(c.purchase_days - 1 AS INTEGER) AS frequency,
  CAST(DATE_DIFF('day', c.first_day, c.last_day) AS INTEGER) AS recency_days,
  CAST(DATE_DIFF('day', c.first_day, DATE '{{as_of}}') AS INTEGER) AS tenure_days,
  CAST(c.total_revenue AS DOUBLE) AS total_revenue,
  CASE
    WHEN c.purchase_days > 1 THEN CAST(c.total_revenue - d.day_revenue AS DOUBLE) / (c.purchase_days - 1)
    ELSE 0E0
  END AS monetary_value,
  CAST(c.total_revenue AS DOUBLE) / c.orders AS avg_order_value
FROM per_customer c
JOIN accepted f ON f.customer_id = c.customer_id AND f.order_rank = 1
JOIN purchase_days d ON d.customer_id = c.customer_id AND d.order_day = c.first_day
