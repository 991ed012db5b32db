CREATE INDEX report_person_region ON report_person (run_id, region_code);
DROP INDEX report_person_list;
