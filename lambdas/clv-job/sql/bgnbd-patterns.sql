-- The BG/NBD's sufficient statistics: distinct (frequency, recency, tenure) in days with how many
-- customers share each. The fit runs on these, so its cost does not grow with the customer count.
SELECT frequency, recency_days, tenure_days, CAST(COUNT(*) AS INTEGER) AS customers
FROM customers
GROUP BY frequency, recency_days, tenure_days
ORDER BY frequency, recency_days, tenure_days
