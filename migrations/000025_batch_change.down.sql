ALTER TABLE source_record DROP COLUMN id_key;
DROP TABLE batch_change;
