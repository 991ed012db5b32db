-- Runs with an anchor lose the persons they took from it.
DROP FUNCTION run_records_all(bigint);
DROP FUNCTION run_records(bigint);
DROP FUNCTION run_persons(bigint);
DROP TYPE run_person_entry;
DROP TYPE run_record_entry;
DROP FUNCTION id_key(text);
DROP TABLE run_person_gone;
ALTER TABLE comparison_run DROP COLUMN anchor;
ALTER TABLE run_person_row RENAME TO run_person;
