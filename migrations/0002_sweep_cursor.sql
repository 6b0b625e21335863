-- When the sweep last checked a row, so interactions legitimately waiting a long time are re-checked
-- every few minutes instead of taking every run's whole budget.
ALTER TABLE interactions ADD COLUMN swept_at INTEGER;
CREATE INDEX interactions_sweep ON interactions (state, swept_at, updated_at);
