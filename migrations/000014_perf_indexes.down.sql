DROP INDEX IF EXISTS run_person_survey;
DROP INDEX IF EXISTS run_person_region;
CREATE INDEX run_person_region ON run_person (region_code);
