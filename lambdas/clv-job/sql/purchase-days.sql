-- One row per customer and purchase day from the accepted orders of `classified` (SPEC "Definitions":
-- same-day purchases merge into one purchase occasion). Both `customers` and `acquisitionMonths`
-- aggregate these rows, so the engine groups the 2 M accepted orders once, not per query.
-- `first_channel` is the channel of the day's first order (by order key: order_id, then the extra
-- key columns), '' when that order has none: `customers` takes the first purchase day's. No window
-- (a sort of every customer's orders: ranking the orders and the days here took 1.5 s of DuckDB's CPU
-- at 1 M customers, this form 0.83 s); MIN_BY instead, whose value is never NULL: DuckDB's skips NULL
-- values and Trino's keeps them (a channel is trimmed and NULL when empty, so '' stands for none).
-- The key is one text that sorts as (order_id, order_key_extra) does, byte by byte on both engines:
-- the order id alone without the orderKey setting (order_key_extra is then NULL on every row and the
-- order ids distinct), else the order id with each NUL byte written as NUL 0x01, then two NULs, then
-- the extra key: the two NULs sort below whatever a longer order id goes on with, so an order id
-- still sorts before every longer one it begins (plain concatenation would not: ids may hold NULs).
-- (A ROW key sorts the same but cost about 0.2 s more of DuckDB's CPU at 1 M customers.)
-- Money is summed exactly, as DECIMAL(38, 6) (amounts rounded to a millionth): a parallel SUM of
-- doubles depends on the order the threads add in, and its last bits would change the fits' results
-- from run to run. No sum of it overflows (DECIMAL(38, 6) holds |x| < 1e32): `validation.maxAmount`,
-- at most 1e18 (config.ts), bounds every amount, so a sum needs 1e14 orders to reach 1e32.
SELECT
  customer_id,
  order_day,
  SUM(CAST(amount AS DECIMAL(38, 6))) AS day_revenue,
  COUNT(*) AS day_orders,
  MIN_BY(
    COALESCE(channel, ''),
    CASE
      WHEN order_key_extra IS NULL THEN order_id
      ELSE REPLACE(order_id, CHR(0), CHR(0) || CHR(1)) || CHR(0) || CHR(0) || order_key_extra
    END
  ) AS first_channel
FROM classified
WHERE outcome = 'accepted'
GROUP BY customer_id, order_day
