-- How many input rows met each outcome, and each rejection reason: the run's accounting. Conflicting
-- duplicates are duplicates too; they are counted apart in `conflicting`.
SELECT
  outcome,
  reason,
  CAST(COUNT(*) AS INTEGER) AS row_count,
  CAST(SUM(CASE WHEN conflicting THEN 1 ELSE 0 END) AS INTEGER) AS conflicting
FROM classified
GROUP BY outcome, reason
ORDER BY outcome, reason
