-- The registry's history belongs to the registry, not to comparisons: a
-- person changes through a comparison run, an approved survey form, a
-- manual change or an extract batch, each recorded with its source, its
-- actor and the date the change took effect.
CREATE TABLE person_event (
    id          bigserial PRIMARY KEY,
    id_number   text NOT NULL,
    field       text NOT NULL,    -- the person column that changed
    old_value   text,
    new_value   text,
    effective   date NOT NULL,    -- when the change took effect (a run's as-of date, a survey's date)
    source_kind text NOT NULL CHECK (source_kind IN ('compare', 'survey', 'manual', 'extract')),
    source_id   bigint NOT NULL,  -- the row of the source's own table (comparison_run, ...)
    actor_id    bigint REFERENCES app_user (id),  -- NULL: the system
    recorded_at timestamptz NOT NULL DEFAULT now()
);
-- A person's timeline, newest first, a page at a time.
CREATE INDEX person_event_person ON person_event (id_number, id);

-- Every change the comparisons recorded, with the run's as-of date and
-- the user who started it.
INSERT INTO person_event (id_number, field, old_value, new_value, effective, source_kind, source_id, actor_id, recorded_at)
SELECT pc.id_number, pc.field, pc.old_value, pc.new_value, c.as_of, 'compare', pc.run_id, c.created_by, pc.at
FROM person_change pc JOIN comparison_run c ON c.id = pc.run_id
ORDER BY pc.id;

-- Dropped rather than kept as a view: nothing writes or reads it any more,
-- and a second name for the history would only invite a second writer.
DROP TABLE person_change;

-- Which source added an entry and which last changed it, of any kind; so
-- far only comparisons had.
ALTER TABLE person RENAME first_run TO first_source;
ALTER TABLE person RENAME last_run TO last_source;
ALTER TABLE person ADD COLUMN first_kind text NOT NULL DEFAULT 'compare',
                   ADD COLUMN last_kind text NOT NULL DEFAULT 'compare';
-- Existing entries keep 'compare'; new ones say their own. The existing
-- rows hold only the default, so checking them (a scan of a million) is
-- skipped.
ALTER TABLE person ALTER COLUMN first_kind DROP DEFAULT, ALTER COLUMN last_kind DROP DEFAULT,
    ADD CONSTRAINT person_first_kind CHECK (first_kind IN ('compare', 'survey', 'manual', 'extract')) NOT VALID,
    ADD CONSTRAINT person_last_kind CHECK (last_kind IN ('compare', 'survey', 'manual', 'extract')) NOT VALID;
