-- Back to comparison-only history: changes from other sources cannot be
-- kept in person_change and are lost.
CREATE TABLE person_change (
    id         bigserial PRIMARY KEY,
    run_id     bigint NOT NULL REFERENCES comparison_run (id),
    id_number  text NOT NULL,
    field      text NOT NULL,
    old_value  text,
    new_value  text,
    at         timestamptz NOT NULL DEFAULT now()
);
INSERT INTO person_change (run_id, id_number, field, old_value, new_value, at)
SELECT source_id, id_number, field, old_value, new_value, recorded_at
FROM person_event WHERE source_kind = 'compare' ORDER BY id;
CREATE INDEX person_change_person ON person_change (id_number, id);
DROP TABLE person_event;

ALTER TABLE person DROP COLUMN first_kind, DROP COLUMN last_kind;
ALTER TABLE person RENAME first_source TO first_run;
ALTER TABLE person RENAME last_source TO last_run;
