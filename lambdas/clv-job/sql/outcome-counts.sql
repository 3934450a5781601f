-- How many input rows met each outcome, and each rejection reason: the run's accounting.
SELECT outcome, reason, CAST(COUNT(*) AS INTEGER) AS row_count
FROM classified
GROUP BY outcome, reason
ORDER BY outcome, reason
