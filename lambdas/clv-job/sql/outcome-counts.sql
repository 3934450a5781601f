-- How many input rows met each outcome, and each rejection reason: the run's accounting. Conflicting
-- duplicates are duplicates too; they are counted apart in `conflicting`. `dated_after_as_of` counts the
-- rows whose order date is a date after the as-of date, whatever else is wrong with them (a negative
-- amount dated after it too): rows outside the night's window when the as-of date is given.
-- `dated_in_future` counts those dated after the latest date a run may be as of (today in UTC, plus a
-- day for time zones ahead of it): with the as-of date defaulted to the latest purchase day, the rows
-- between the two (a cancellation after the last purchase) are outside the window, those after it defects.
SELECT
  outcome,
  reason,
  CAST(COUNT(*) AS INTEGER) AS row_count,
  CAST(SUM(CASE WHEN conflicting THEN 1 ELSE 0 END) AS INTEGER) AS conflicting,
  CAST(SUM(CASE WHEN order_day > DATE '{{as_of}}' THEN 1 ELSE 0 END) AS INTEGER) AS dated_after_as_of,
  CAST(SUM(CASE WHEN order_day > DATE '{{latest_as_of}}' THEN 1 ELSE 0 END) AS INTEGER) AS dated_in_future
FROM classified
GROUP BY outcome, reason
ORDER BY outcome, reason
