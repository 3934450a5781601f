-- One row per customer and purchase day from the accepted orders of `classified` (SPEC "Definitions":
-- same-day purchases merge into one purchase occasion). Both `customers` and `acquisitionMonths`
-- aggregate these rows, so the engine groups and ranks the 2 M accepted orders once, not per query.
-- `day_rank` numbers a customer's purchase days from 1 (the first purchase day).
-- `first_channel` is the channel of the customer's first order (by day, then order key) on the
-- row of its first purchase day and NULL elsewhere (also when that order has none): ranked explicitly,
-- because MIN_BY skips NULLs on DuckDB and not on Trino; MAX over one value and NULLs is that value.
-- Money is summed exactly, as DECIMAL(38, 6) (amounts rounded to a millionth): a parallel SUM of
-- doubles depends on the order the threads add in, and its last bits would change the fits' results
-- from run to run.
SELECT
  customer_id,
  order_day,
  MIN(day_rank) AS day_rank,
  SUM(CAST(amount AS DECIMAL(38, 6))) AS day_revenue,
  COUNT(*) AS day_orders,
  MAX(CASE WHEN order_rank = 1 THEN channel END) AS first_channel
FROM (
  SELECT
    customer_id,
    order_day,
    amount,
    channel,
    ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY order_day, order_id, order_key_extra) AS order_rank,
    DENSE_RANK() OVER (PARTITION BY customer_id ORDER BY order_day) AS day_rank
  FROM classified
  WHERE outcome = 'accepted'
) a
GROUP BY customer_id, order_day
