-- A digest of each record's typed columns, written by the importer: the
-- derivation of a newer extract's events compares two batches by ID and
-- digest and reads whole rows only where they differ. Nullable without a
-- default, so adding it changes only the catalog (no rewrite of a large
-- source_record); rows imported before it have NULL, which never equals
-- anything, so their batches are compared in full.
ALTER TABLE source_record ADD COLUMN row_hash bigint;

-- When a batch's events were derived (even when there were none), so a
-- derivation that failed after its import committed can be told from one
-- that found nothing, and offered again. Batches with events were derived.
ALTER TABLE import_batch ADD COLUMN derived_at timestamptz;
UPDATE import_batch b SET derived_at = b.created_at WHERE EXISTS (SELECT 1 FROM extract_event e WHERE e.batch_id = b.id);
