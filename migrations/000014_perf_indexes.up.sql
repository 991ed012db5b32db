-- Result lists page through a run's persons in (region_code, id_number)
-- order. With region_code alone indexed, page 1 of a county had to sort
-- the whole first region (13,000 rows), and a page reached from the one
-- before it (keyset: rows after the previous page's last key) had no
-- index to seek into; with id_number as the second column both read 50
-- rows. It also serves every region_code prefix search the old one did.
DROP INDEX IF EXISTS run_person_region;
CREATE INDEX run_person_region ON run_person (region_code, id_number);

-- The survey list (入户调查对象, about an eighth of a county) is the one
-- clerks page deep into. Its own index, with run_id so that a jump to
-- page 300 finds the page's keys by an index-only scan instead of reading
-- the 15,000 rows before it.
CREATE INDEX run_person_survey ON run_person (region_code, id_number) INCLUDE (run_id) WHERE survey;
