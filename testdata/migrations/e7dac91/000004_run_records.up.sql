-- A run's links, kept lean: each person's run_person row lists the
-- records linked to them, and run_link keeps only the records not linked
-- by their own valid ID (fuzzy, reviewed, in review, unmatched). Writing
-- and indexing a row per record (millions per city) was most of a run's
-- time; a person's list rides along with the row that is written anyway.
ALTER TABLE run_person
    ADD COLUMN record_batches bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN record_lines   integer[] NOT NULL DEFAULT '{}';

UPDATE run_person rp SET record_batches = l.batches, record_lines = l.lines
FROM (SELECT run_id, id_number, array_agg(batch_id ORDER BY batch_id, line) AS batches,
             array_agg(line ORDER BY batch_id, line) AS lines
      FROM run_link WHERE id_number IS NOT NULL
      GROUP BY run_id, id_number) l
WHERE rp.run_id = l.run_id AND rp.id_number = l.id_number;

DELETE FROM run_link WHERE method = 'exact' AND NOT name_diff;

-- Classification reads the records themselves now.
ALTER TABLE run_link
    DROP COLUMN hukou_region,
    DROP COLUMN pop_status,
    DROP COLUMN scheme,
    DROP COLUMN enroll_status,
    DROP COLUMN pay_status,
    DROP COLUMN death_date;

-- Within a run's partition run_id is the same everywhere: the indexes need
-- not repeat it, and are a third cheaper to build without it. Pages in ID
-- order come from the primary key; a village's few persons are sorted.
DROP INDEX run_person_region;
DROP INDEX run_person_name;
CREATE INDEX run_person_region ON run_person (region_code);
CREATE INDEX run_person_name ON run_person (name);
