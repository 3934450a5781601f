-- The latest purchase day of a valid row, for the default as-of date (rendered with as_of = today,
-- so a row dated in the future cannot move the as-of date past the present).
SELECT CAST(MAX(order_day) AS VARCHAR) AS latest_order_date
FROM classified
WHERE reason IS NULL
