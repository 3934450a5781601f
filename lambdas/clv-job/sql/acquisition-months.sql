-- Realised revenue of the customers each channel acquired in each month, by calendar month of age
-- (0 = the acquisition month): what fixed-age values (revenue in the first 3, 6, 12 months) and payback
-- months are computed from, small however many customers there are (channels x months x ages).
-- `first_repeats` counts customers whose second purchase day falls in that month of age (repeat rate
-- at a fixed age); `first_day_revenue` is the revenue of first purchase days (first-order value).
-- Money is summed as DECIMAL(38, 6) and turned into DOUBLE after the sums, as in `customers`.
-- (Subqueries rather than a WITH clause: Athena's engine adapter inlines the relations as one.)
SELECT
  c.acquisition_channel,
  c.cohort,
  CAST(p.age_month AS INTEGER) AS age_month,
  CAST(SUM(p.day_revenue) AS DOUBLE) AS revenue,
  CAST(SUM(CASE WHEN p.day_rank = 2 THEN 1 ELSE 0 END) AS INTEGER) AS first_repeats,
  CAST(SUM(CASE WHEN p.day_rank = 1 THEN p.day_revenue ELSE CAST(0 AS DECIMAL(38, 6)) END) AS DOUBLE) AS first_day_revenue
FROM (
  SELECT
    d.customer_id,
    d.day_revenue,
    ROW_NUMBER() OVER (PARTITION BY d.customer_id ORDER BY d.order_day) AS day_rank,
    (YEAR(d.order_day) * 12 + MONTH(d.order_day))
      - MIN(YEAR(d.order_day) * 12 + MONTH(d.order_day)) OVER (PARTITION BY d.customer_id) AS age_month
  FROM (
    SELECT customer_id, order_day, SUM(CAST(amount AS DECIMAL(38, 6))) AS day_revenue
    FROM classified
    WHERE outcome = 'accepted'
    GROUP BY customer_id, order_day
  ) d
) p
JOIN customers c ON c.customer_id = p.customer_id
GROUP BY c.acquisition_channel, c.cohort, p.age_month
ORDER BY c.acquisition_channel, c.cohort, age_month
