DROP TABLE IF EXISTS report_bulletin;
DROP FUNCTION IF EXISTS report_bulletin_frozen();
DROP TABLE IF EXISTS report_entry_history;
DROP TABLE IF EXISTS report_entry;
DROP TABLE IF EXISTS report_count;
DROP TABLE IF EXISTS report_run;
DROP TABLE IF EXISTS report_person;
