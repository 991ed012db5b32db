-- The ministry's tables (seed 003): 全民参保登记工作进度表, 基础数据情况表(一)(二)
-- and the 工作通报 built from them.

-- What the basic-data tables count per person of a run's universe, derived
-- once per run from its linked records (the run keeps statuses and flags,
-- not each person's schemes), so a table or its export reads a few
-- thousand summary numbers instead of a million persons' records.
CREATE TABLE report_person (
    run_id       bigint NOT NULL,
    id_number    text COLLATE "C" NOT NULL,
    region_code  text COLLATE "C" NOT NULL,
    hukou        boolean NOT NULL,  -- a living hukou (户籍人口 正常) inside the run's region
    local_active boolean NOT NULL,  -- an active enrollment whose 参保地 is inside the run's region
    schemes      integer NOT NULL,  -- schemes with an active enrollment, one bit each (report.Scheme)
    emp          smallint NOT NULL, -- employee schemes held: 1 养老 2 医疗 4 工伤 8 失业 16 生育
    res          smallint NOT NULL, -- resident schemes held: 1 居民养老 2 居民医疗 4 新农合
    cross_groups integer NOT NULL,  -- scheme groups with one scheme active in two or more counties
    pension      text NOT NULL,     -- as in run_person
    medical      text NOT NULL,
    flags        integer NOT NULL,
    survey       boolean NOT NULL,
    PRIMARY KEY (run_id, id_number)
);
CREATE INDEX report_person_region ON report_person (run_id, region_code);

-- A run whose report_person rows are complete, with the counts of every
-- region inside it (every level), keyed by column ("b1.2" = table 一
-- column 2), written from the same predicates the lists use.
CREATE TABLE report_run (
    run_id      bigint PRIMARY KEY REFERENCES comparison_run (id) ON DELETE CASCADE,
    persons     integer NOT NULL,
    duration_ms integer NOT NULL,
    built_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE report_count (
    run_id      bigint NOT NULL REFERENCES report_run (run_id) ON DELETE CASCADE,
    region_code text COLLATE "C" NOT NULL,
    counts      jsonb NOT NULL,
    PRIMARY KEY (run_id, region_code)
);

-- Items staff enter by hand for a region and a period (YYYY-MM): the
-- organisational columns of the progress table and the columns of the
-- basic-data table this system cannot know. The current value here, every
-- save in report_entry_history.
CREATE TABLE report_entry (
    region_code  text NOT NULL REFERENCES region (code),
    period       text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    item         text NOT NULL,   -- "p.1" progress column 1, "b1.4" basic table 一 column 4
    value        text NOT NULL CHECK (char_length(value) <= 500),
    updated_by   bigint REFERENCES app_user (id),
    updated_name text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (region_code, period, item)
);
CREATE INDEX report_entry_period ON report_entry (period, region_code text_pattern_ops);

CREATE TABLE report_entry_history (
    id           bigserial PRIMARY KEY,
    region_code  text NOT NULL,
    period       text NOT NULL,
    item         text NOT NULL,
    old_value    text,            -- NULL: not entered before
    new_value    text,            -- NULL: cleared
    changed_by   bigint REFERENCES app_user (id),
    changed_name text NOT NULL DEFAULT '',
    changed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_entry_history_region ON report_entry_history (region_code, period, id DESC);

-- 工作通报: numbered per region (第 N 期). A draft shows the numbers of the
-- day; issuing freezes them in data, and an issued bulletin never changes.
CREATE TABLE report_bulletin (
    id           bigserial PRIMARY KEY,
    region_code  text NOT NULL REFERENCES region (code),
    number       integer NOT NULL CHECK (number > 0),
    title        text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 100),
    note         text NOT NULL DEFAULT '' CHECK (char_length(note) <= 2000),
    state        text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'issued')),
    data         jsonb,           -- the frozen numbers, set when issued
    created_by   bigint REFERENCES app_user (id),
    created_name text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    issued_by    bigint REFERENCES app_user (id),
    issued_name  text NOT NULL DEFAULT '',
    issued_at    timestamptz,
    UNIQUE (region_code, number),
    CHECK ((state = 'issued') = (data IS NOT NULL AND issued_at IS NOT NULL))
);

-- An issued bulletin is a record: refuse any change to it but none to drafts.
CREATE FUNCTION report_bulletin_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state = 'issued' THEN
        RAISE EXCEPTION 'report_bulletin %: an issued bulletin is frozen', OLD.id;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER report_bulletin_frozen BEFORE UPDATE OR DELETE ON report_bulletin
    FOR EACH ROW EXECUTE FUNCTION report_bulletin_frozen();
