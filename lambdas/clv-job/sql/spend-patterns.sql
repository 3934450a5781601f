-- The Gamma-Gamma's sufficient statistics: repeat buyers' distinct (frequency, monetary value).
SELECT frequency, monetary_value, CAST(COUNT(*) AS INTEGER) AS customers
FROM customers
WHERE frequency > 0 AND monetary_value > 0
GROUP BY frequency, monetary_value
ORDER BY frequency, monetary_value
