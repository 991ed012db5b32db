DROP INDEX run_person_region;
DROP INDEX run_person_name;
CREATE INDEX run_person_region ON run_person (run_id, region_code, id_number);
CREATE INDEX run_person_name ON run_person (run_id, name);

ALTER TABLE run_link
    ADD COLUMN hukou_region  text,
    ADD COLUMN pop_status    text,
    ADD COLUMN scheme        text,
    ADD COLUMN enroll_status smallint,
    ADD COLUMN pay_status    smallint,
    ADD COLUMN death_date    date;

-- The exact links come back from the persons' lists (without the facts,
-- which no page reads).
INSERT INTO run_link (run_id, batch_id, line, id_number, method, name_diff, kind, id_norm, id_damage, name, region_code)
SELECT rp.run_id, r.batch_id, r.line, rp.id_number, 'exact', false, b.kind, s.id_norm, s.id_damage, s.name, s.region_code
FROM run_person rp
CROSS JOIN LATERAL unnest(rp.record_batches, rp.record_lines) AS r(batch_id, line)
JOIN import_batch b ON b.id = r.batch_id
JOIN source_record s ON s.batch_id = r.batch_id AND s.line = r.line
WHERE NOT EXISTS (SELECT 1 FROM run_link l WHERE l.run_id = rp.run_id AND l.batch_id = r.batch_id AND l.line = r.line);

ALTER TABLE run_person DROP COLUMN record_batches, DROP COLUMN record_lines;
