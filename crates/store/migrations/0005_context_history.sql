-- History rows say exactly whether the writer gave observedAt (before this, a row told it only
-- by observed_at ≠ modified_at, which fails when both fall in the same millisecond). NULL on
-- rows written before this migration: readers fall back to the comparison for those.
ALTER TABLE ctx_history ADD COLUMN has_observed INTEGER;

-- Sum of squares per hour, so that stddev and sumsq can be given over down-sampled history too.
-- NULL for hours folded before this migration (those answer null for the two methods).
ALTER TABLE ctx_history_hourly ADD COLUMN sumsq REAL;
