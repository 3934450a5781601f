-- Every repeat purchase day (after the first) of the customers acquired by the calibration end,
-- up to the as-of date: the actuals a backtest compares its holdout predictions with.
-- (Subqueries rather than a WITH clause: Athena's engine adapter inlines `classified` as one.)
SELECT
  p.customer_id,
  CAST(DATE_DIFF('day', DATE '1970-01-01', p.order_day) AS INTEGER) AS order_day
FROM (
  SELECT DISTINCT customer_id, order_day
  FROM classified
  WHERE outcome = 'accepted'
) p
JOIN (
  SELECT customer_id, MIN(order_day) AS first_day
  FROM classified
  WHERE outcome = 'accepted'
  GROUP BY customer_id
) f ON p.customer_id = f.customer_id
WHERE f.first_day <= DATE '{{calibration_end}}' AND p.order_day > f.first_day
ORDER BY p.customer_id, p.order_day
