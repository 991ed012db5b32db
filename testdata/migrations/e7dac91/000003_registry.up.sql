-- 数据比对: one row per comparison run of a region at an as-of date.
CREATE TABLE comparison_run (
    id           bigserial PRIMARY KEY,
    region_code  text NOT NULL REFERENCES region (code),
    as_of        date NOT NULL,
    status       text NOT NULL CHECK (status IN ('done', 'failed')),
    error        text NOT NULL DEFAULT '',
    batches      bigint[] NOT NULL DEFAULT '{}',  -- the import batches compared
    records      integer NOT NULL DEFAULT 0,
    linked       integer NOT NULL DEFAULT 0,
    review       integer NOT NULL DEFAULT 0,
    unmatched    integer NOT NULL DEFAULT 0,
    persons      integer NOT NULL DEFAULT 0,
    created_by   bigint REFERENCES app_user (id),
    created_name text NOT NULL DEFAULT '',
    started_at   timestamptz NOT NULL DEFAULT now(),
    duration_ms  integer NOT NULL DEFAULT 0
);
CREATE INDEX comparison_run_region ON comparison_run (region_code text_pattern_ops, id DESC);

-- The registry (全民参保登记库): one row per person, keyed by the 18-digit
-- citizen ID. Identity comes from 户籍人口 first, then 居住人口, then the rest.
CREATE TABLE person (
    id_number     text PRIMARY KEY,
    name          text NOT NULL,
    sex           text,
    birth         date,
    household     text,
    relation      text,
    hukou_region  text,
    pop_status    text,
    identity_kind text NOT NULL,
    region_code   text NOT NULL,   -- where the person is managed: hukou, else residence, else enrollment
    -- runs that first saw and last changed the entry (no foreign keys: a
    -- first run inserts a million persons, and two checks a row cost seconds)
    first_run     bigint NOT NULL,
    last_run      bigint NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX person_region ON person (region_code text_pattern_ops);

-- Nothing in the registry is overwritten without history.
CREATE TABLE person_change (
    id         bigserial PRIMARY KEY,
    run_id     bigint NOT NULL REFERENCES comparison_run (id),
    id_number  text NOT NULL,
    field      text NOT NULL,
    old_value  text,
    new_value  text,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX person_change_person ON person_change (id_number, id);

-- Which person each compared record belongs to, per run (NULL: unmatched),
-- with the record's facts the classification used. One partition per run,
-- filled before it is attached, so a run never slows the readers of others.
CREATE TABLE run_link (
    run_id        bigint NOT NULL,
    batch_id      bigint NOT NULL,
    line          integer NOT NULL,
    id_number     text,
    method        text NOT NULL,    -- exact, fuzzy, name, reviewed, review, unmatched
    name_diff     boolean NOT NULL, -- the record's name disagrees with the person's
    reason        text,
    kind          text NOT NULL,
    id_norm       text,
    id_damage     text,             -- as in source_record: NULL when the ID is valid
    name          text,
    region_code   text,
    hukou_region  text,
    pop_status    text,
    scheme        text,
    enroll_status smallint,
    pay_status    smallint,
    death_date    date
) PARTITION BY LIST (run_id);
-- A person's records in a run; (run_id, batch_id, line) is unique by
-- construction (one row per record), and nothing looks records up by it
-- often enough to pay for a second index over millions of rows.
CREATE INDEX run_link_person ON run_link (id_number, run_id);
-- The unmatched and in-review lists: a few rows among millions.
CREATE INDEX run_link_unlinked ON run_link (run_id, batch_id, line) WHERE id_number IS NULL;

-- Each known person's result in a run; flags is a bit set (compare.Flag).
-- Codes and names use the C collation so one btree serves both prefix
-- searches (LIKE '4409%') and ordered pages, whatever the database's locale.
CREATE TABLE run_person (
    run_id       bigint NOT NULL,
    id_number    text COLLATE "C" NOT NULL,
    name         text COLLATE "C" NOT NULL,
    region_code  text COLLATE "C" NOT NULL,
    in_universe  boolean NOT NULL,
    pension      text NOT NULL,
    medical      text NOT NULL,
    flags        integer NOT NULL,
    survey       boolean NOT NULL,
    PRIMARY KEY (id_number, run_id)  -- a person's history across runs, and one run's entry
) PARTITION BY LIST (run_id);
CREATE INDEX run_person_region ON run_person (run_id, region_code, id_number);
CREATE INDEX run_person_name ON run_person (run_id, name);

-- Counts per region and metric, written with the run from the same
-- predicates the lists use, so a number always equals its list's length.
CREATE TABLE run_summary (
    run_id      bigint NOT NULL REFERENCES comparison_run (id) ON DELETE CASCADE,
    region_code text NOT NULL,
    metric      text NOT NULL,
    n           integer NOT NULL,
    PRIMARY KEY (run_id, region_code, metric)
);

-- Records whose candidates were too close to call, for a reviewer.
CREATE TABLE run_review (
    run_id      bigint NOT NULL REFERENCES comparison_run (id) ON DELETE CASCADE,
    batch_id    bigint NOT NULL,
    line        integer NOT NULL,
    candidates  text[] NOT NULL,
    scores      real[] NOT NULL,
    PRIMARY KEY (run_id, batch_id, line)
);

-- A reviewer's decision on a record, kept across runs. id_number NULL:
-- none of the candidates is this record's person.
CREATE TABLE link_decision (
    batch_id     bigint NOT NULL,
    line         integer NOT NULL,
    id_number    text,
    decided_by   bigint REFERENCES app_user (id),
    decided_name text NOT NULL,
    decided_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (batch_id, line)
);
