-- The lists behind the basic tables' figures read report_person in
-- (region_code, id_number) order, a page at a time or after the previous
-- page's last key: an index in that order spares sorting every match.
CREATE INDEX report_person_list ON report_person (run_id, region_code, id_number);
DROP INDEX report_person_region;
