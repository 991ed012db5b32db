-- What changed from the batch a batch superseded, recorded by the import
-- (see internal/batchdiff): an incremental comparison reads it instead of
-- comparing the two batches record by record. Batches imported before it,
-- or whose predecessor cannot be matched line by line (another layout,
-- records without digests, repeated lines), have no row and are compared
-- as before.
CREATE TABLE batch_change (
    batch_id   bigint PRIMARY KEY REFERENCES import_batch (id) ON DELETE CASCADE,
    prev_batch bigint NOT NULL REFERENCES import_batch (id) ON DELETE CASCADE,
    kept       integer[] NOT NULL, -- runs of unchanged records: old first line, new first line, length, ...
    removed    integer[] NOT NULL, -- lines of prev_batch no longer there
    added      integer[] NOT NULL, -- lines of batch_id new
    ids        text[] NOT NULL     -- the IDs of the removed and added records
);
CREATE INDEX batch_change_prev ON batch_change (prev_batch);

-- A record's valid ID as a number (see batchdiff.Key), NULL for the few
-- records an incremental comparison reads whatever their ID (a damaged or
-- absent ID, an ID ending in 000). The import indexes each new batch on
-- it, so the comparison finds the records of the persons touched since its
-- base without scanning every batch. Nullable without a default: adding it
-- changes only the catalog; batches imported before have NULL and no index,
-- and are scanned as before.
ALTER TABLE source_record ADD COLUMN id_key bigint;
