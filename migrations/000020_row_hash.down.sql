ALTER TABLE import_batch DROP COLUMN derived_at;
ALTER TABLE source_record DROP COLUMN row_hash;
