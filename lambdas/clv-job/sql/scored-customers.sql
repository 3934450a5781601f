-- The scored customers as the output contract writes them: the engine's own `customers` joined with
-- what the models and segments computed, which the pipeline hands the engine in compact form:
-- `customer_scores` (one row per customer, in customer_id order as the `customers` query returns
-- them: its scoring pattern, its segment combination, its historical CLV), `pattern_scores` (the
-- model scores of each distinct (frequency, recency, tenure, monetary value) pattern) and
-- `segment_combinations`. Names follow schemas/tables.ts; the writer casts to the contract's types.
SELECT
  c.customer_row,
  c.customer_id,
  DATE '1970-01-01' + c.first_order_day AS first_order_date,
  DATE '1970-01-01' + c.last_order_day AS last_order_date,
  c.acquisition_channel,
  c.cohort,
  c.orders,
  c.frequency,
  c.recency_days,
  c.tenure_days,
  c.total_revenue,
  c.monetary_value,
  c.avg_order_value,
  s.historical_clv,
  p.expected_purchases,
  p.probability_alive,
  p.expected_order_value,
  p.predicted_clv,
  p.predicted_clv_p05,
  p.predicted_clv_p95,
  p.expected_purchases_p05,
  p.expected_purchases_p95,
  p.probability_alive_p05,
  p.probability_alive_p95,
  g.clv_tier,
  g.value_loyalty,
  g.rfm_r,
  g.rfm_f,
  g.rfm_m,
  g.rfm_score,
  g.rfm_segment
FROM (SELECT *, ROW_NUMBER() OVER (ORDER BY customer_id) - 1 AS customer_row FROM customers) c
JOIN customer_scores s ON s.customer_row = c.customer_row
JOIN pattern_scores p ON p.pattern = s.pattern
JOIN segment_combinations g ON g.segment_combination = s.segment_combination
