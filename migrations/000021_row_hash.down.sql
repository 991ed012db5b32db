ALTER TABLE source_record DROP COLUMN row_hash;
