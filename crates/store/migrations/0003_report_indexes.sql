-- Indexes for the report queries at a million reports (measured with bench/src/bin/reports.rs).

-- Work queues in deadline order, open work only (about 5 % of the items): the IOC's inbox reads
-- its first page straight from the index instead of sorting every open item (0.3 s at 1M), and
-- a unit's inbox likewise from its own part. The key is the queue's sort key as written in the
-- query (COALESCE(w.due_at, '9999')).
CREATE INDEX work_items_queue ON work_items ((COALESCE(due_at, '9999')), id) WHERE open = 1;
CREATE INDEX work_items_unit_queue ON work_items (handler_unit_id, (COALESCE(due_at, '9999')), id) WHERE open = 1;

-- Reports merged into one: read by every report's detail, and so after every workflow step.
-- Without it each was a scan of the whole table (0.7 s at 1M).
CREATE INDEX reports_merged ON reports (merged_into) WHERE merged_into IS NOT NULL;
