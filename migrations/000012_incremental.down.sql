ALTER TABLE comparison_run DROP COLUMN event_mark, DROP COLUMN mode_note, DROP COLUMN mode;
