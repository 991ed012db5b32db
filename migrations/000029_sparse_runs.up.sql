-- Sparse runs (issue 13): an incremental run writes only the persons it
-- touched, not a million rows most of which equal an earlier run's.
--
-- The table a run writes is now run_person_row. A run whose anchor is
-- NULL wrote a row for every person (a full run, and every run before
-- this migration). A run with an anchor (a full run of the region) wrote
-- the rows that differ from the anchor's, and run_person_gone lists the
-- anchor's persons it no longer has; its other persons are the anchor's,
-- unchanged, with their records in this run's batches.
--
-- Readers read run_persons(run) (a run's persons, whole) and
-- run_records(run) (their records). A person's records are
-- not stored for the rows a run takes from its anchor: their lines move
-- when a newer extract supersedes a batch. They are the records in the
-- run's batches that carry the person's valid ID (source_record.id_key),
-- less those the run linked otherwise (run_link), plus those run_link
-- links to them. Only a run whose batches all have keys has an anchor.
ALTER TABLE run_person RENAME TO run_person_row;

ALTER TABLE comparison_run ADD COLUMN anchor bigint REFERENCES comparison_run (id);

CREATE TABLE run_person_gone (
    run_id    bigint NOT NULL REFERENCES comparison_run (id) ON DELETE CASCADE,
    id_number text COLLATE "C" NOT NULL,
    PRIMARY KEY (run_id, id_number)
);

-- source_record.id_key of a valid ID (see batchdiff.Key): NULL for
-- anything else and for an ID ending in 000.
CREATE FUNCTION id_key(id text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN id ~ '^[0-9]{17}[0-9X]$' AND id NOT LIKE '%000'
                THEN left(id, 17)::bigint * 11 + CASE right(id, 1) WHEN 'X' THEN 10 ELSE right(id, 1)::int END
           END
$$;

-- A run's persons, whole. (Inlined into the query that calls it: the
-- anchor is found first, and only its partition is read.)
CREATE TYPE run_person_entry AS (
    run_id      bigint,
    id_number   text COLLATE "C",
    name        text COLLATE "C",
    region_code text COLLATE "C",
    in_universe boolean,
    pension     text,
    medical     text,
    flags       integer,
    survey      boolean,
    changed     boolean -- new, or a result unlike the base run's
);

CREATE FUNCTION run_persons(run bigint) RETURNS SETOF run_person_entry
    LANGUAGE sql STABLE AS $$
    SELECT run_id, id_number, name, region_code, in_universe, pension, medical, flags, survey, changed
    FROM run_person_row
    WHERE run_id = run
    UNION ALL
    SELECT run, a.id_number, a.name, a.region_code, a.in_universe, a.pension, a.medical, a.flags, a.survey, false
    FROM run_person_row a
    WHERE a.run_id = (SELECT anchor FROM comparison_run WHERE id = run)
      AND NOT EXISTS (SELECT FROM run_person_row o WHERE o.run_id = run AND o.id_number = a.id_number)
      AND NOT EXISTS (SELECT FROM run_person_gone g WHERE g.run_id = run AND g.id_number = a.id_number)
      -- a one-time filter: a run without an anchor builds no hash of its own rows here
      AND (SELECT anchor FROM comparison_run WHERE id = run) IS NOT NULL
$$;

-- A run's persons' records: one row per person and record.
CREATE TYPE run_record_entry AS (
    id_number text COLLATE "C",
    batch_id  bigint,
    line      integer
);

CREATE FUNCTION run_records(run bigint) RETURNS SETOF run_record_entry
    LANGUAGE sql STABLE AS $$
    SELECT p.id_number, x.batch_id, x.line
    FROM run_person_row p, unnest(p.record_batches, p.record_lines) AS x (batch_id, line)
    WHERE p.run_id = run
    UNION ALL
    -- the anchor's persons' records by their own ID, less those linked otherwise
    SELECT a.id_number, s.batch_id, s.line
    FROM run_person_row a
    JOIN source_record s ON s.id_key = id_key(a.id_number)
    WHERE a.run_id = (SELECT anchor FROM comparison_run WHERE id = run)
      AND s.batch_id = ANY ((SELECT batches FROM comparison_run WHERE id = run)::bigint[])
      AND NOT EXISTS (SELECT FROM run_person_row o WHERE o.run_id = run AND o.id_number = a.id_number)
      AND NOT EXISTS (SELECT FROM run_person_gone g WHERE g.run_id = run AND g.id_number = a.id_number)
      AND NOT EXISTS (SELECT FROM run_link l WHERE l.run_id = run AND l.batch_id = s.batch_id AND l.line = s.line)
      AND (SELECT anchor FROM comparison_run WHERE id = run) IS NOT NULL
    UNION ALL
    -- and the records linked to them otherwise
    SELECT l.id_number, l.batch_id, l.line
    FROM run_link l
    WHERE l.run_id = run AND l.id_number IS NOT NULL
      AND (SELECT anchor FROM comparison_run WHERE id = run) IS NOT NULL
      AND NOT EXISTS (SELECT FROM run_person_row o WHERE o.run_id = run AND o.id_number = l.id_number)
$$;

-- run_records for a reader of a whole run's records (an export, a
-- report's preparation): the same rows, the anchor's persons joined to the
-- records by their ID instead of by id_key(ID). A record's id_key is set
-- exactly when its ID is valid and does not end in 000, and id_norm is
-- then that ID, so both find the same records; but a hash join on the
-- expression evaluates it for every record it meets (1.3 s against 0.5 s
-- on a 100,000-person county), while a reader of a few persons needs the
-- expression to find them through each batch's id_key index.
CREATE FUNCTION run_records_all(run bigint) RETURNS SETOF run_record_entry
    LANGUAGE sql STABLE AS $$
    SELECT p.id_number, x.batch_id, x.line
    FROM run_person_row p, unnest(p.record_batches, p.record_lines) AS x (batch_id, line)
    WHERE p.run_id = run
    UNION ALL
    SELECT a.id_number, s.batch_id, s.line
    FROM run_person_row a
    JOIN source_record s ON s.id_norm COLLATE "C" = a.id_number AND s.id_key IS NOT NULL
    WHERE a.run_id = (SELECT anchor FROM comparison_run WHERE id = run)
      AND s.batch_id = ANY ((SELECT batches FROM comparison_run WHERE id = run)::bigint[])
      AND NOT EXISTS (SELECT FROM run_person_row o WHERE o.run_id = run AND o.id_number = a.id_number)
      AND NOT EXISTS (SELECT FROM run_person_gone g WHERE g.run_id = run AND g.id_number = a.id_number)
      AND NOT EXISTS (SELECT FROM run_link l WHERE l.run_id = run AND l.batch_id = s.batch_id AND l.line = s.line)
      AND (SELECT anchor FROM comparison_run WHERE id = run) IS NOT NULL
    UNION ALL
    SELECT l.id_number, l.batch_id, l.line
    FROM run_link l
    WHERE l.run_id = run AND l.id_number IS NOT NULL
      AND (SELECT anchor FROM comparison_run WHERE id = run) IS NOT NULL
      AND NOT EXISTS (SELECT FROM run_person_row o WHERE o.run_id = run AND o.id_number = l.id_number)
$$;
