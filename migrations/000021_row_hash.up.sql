-- A digest of each record's typed columns, written by the importer: the
-- derivation of a newer extract's events compares two batches by ID and
-- digest and reads whole rows only where they differ. Nullable without a
-- default, so adding it changes only the catalog (no rewrite of a large
-- source_record); rows imported before it have NULL, which never equals
-- anything, so their batches are compared in full.
ALTER TABLE source_record ADD COLUMN row_hash bigint;
