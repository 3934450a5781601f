-- The latest purchase day of an accepted order, for the default as-of date (rendered with as_of =
-- today, so a row dated in the future cannot move the as-of date past the present). Accepted as
-- `classified` judges a row: valid (VALID_ROW, sql/index.ts), the kept copy of its order key (the
-- copy from the last file in name order, then the last line, among the valid copies), and not of a
-- non-purchase status. A cancelled order, or a copy of a re-sent order that is not kept, cannot date
-- the run: every customer's tenure is counted to this date.
-- A copy kept under today's date is still kept under the date found here: the copies that date
-- leaves out are all later than it, and a kept copy later than it is a non-purchase, whose key then
-- keeps an earlier copy, no later than this date. So the row that gives this date is accepted when
-- the run classifies the rows as of it, and no accepted row is later.
-- Only an order id with more than one valid row can have a copy that is not kept (as in classified.sql).
-- No WITH clause of its own: engines that inline the relations put theirs in front of a query.
SELECT CAST(MAX(o.order_date) AS VARCHAR) AS latest_order_date
FROM orders o
LEFT JOIN (
  -- the valid copies that a later copy of their order key replaces
  SELECT source_file, source_line
  FROM (
    SELECT j.source_file, j.source_line, ROW_NUMBER() {{copy_window}} AS copy_rank
    FROM orders j
    JOIN (
      SELECT order_id
      FROM orders
      WHERE {{valid_row}}
      GROUP BY order_id
      HAVING COUNT(*) > 1
    ) r ON r.order_id = j.order_id
    WHERE {{valid_row}}
  ) c
  WHERE copy_rank > 1
) s ON s.source_file = o.source_file AND s.source_line = o.source_line
WHERE {{valid_row}}
  AND s.source_line IS NULL
  AND (o.status IS NULL OR o.status NOT IN ({{non_purchase_statuses}}))
