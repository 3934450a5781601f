-- Realised revenue of the customers each channel acquired in each month, by calendar month of age
-- (0 = the acquisition month): what fixed-age values (revenue in the first 3, 6, 12 months) and payback
-- months are computed from, small however many customers there are (channels x months x ages).
-- `first_repeats` counts customers whose second purchase day falls in that month of age (repeat rate
-- at a fixed age); `first_day_revenue` is the revenue of first purchase days (first-order value).
-- Which day is a customer's first or second comes from `customers` (`first_day`, `second_day`).
-- Money is summed as DECIMAL(38, 6) and turned into DOUBLE after the sums, as in `customers`.
-- (A subquery rather than a WITH clause: Athena's engine adapter inlines the relations as one.)
SELECT
  p.acquisition_channel,
  p.cohort,
  p.age_month,
  CAST(SUM(p.day_revenue) AS DOUBLE) AS revenue,
  CAST(SUM(CASE WHEN p.order_day = p.second_day THEN 1 ELSE 0 END) AS INTEGER) AS first_repeats,
  CAST(SUM(CASE WHEN p.order_day = p.first_day THEN p.day_revenue ELSE CAST(0 AS DECIMAL(38, 6)) END) AS DOUBLE) AS first_day_revenue
FROM (
  SELECT
    c.acquisition_channel,
    c.cohort,
    CAST(YEAR(d.order_day) * 12 + MONTH(d.order_day) - c.first_month AS INTEGER) AS age_month,
    d.order_day,
    c.first_day,
    c.second_day,
    d.day_revenue
  FROM purchase_days d
  JOIN customers c ON c.customer_id = d.customer_id
) p
GROUP BY p.acquisition_channel, p.cohort, p.age_month
ORDER BY p.acquisition_channel, p.cohort, p.age_month
