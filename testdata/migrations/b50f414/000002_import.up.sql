-- One row per attempt to import a department extract. A successful import
-- and its records commit together; a failed one leaves only this row (with
-- status 'failed' and the reason) so the batch list shows what was tried.
CREATE TABLE import_batch (
    id             bigserial PRIMARY KEY,
    kind           text NOT NULL,
    region_code    text NOT NULL REFERENCES region (code),
    -- Which extract this is (e.g. the scheme system it came from). A newer
    -- batch of the same kind, region and source supersedes the older one.
    source         text NOT NULL,
    file_name      text NOT NULL,
    file_sha256    text NOT NULL,
    file_size      bigint NOT NULL,
    format         text NOT NULL DEFAULT '',
    encoding       text NOT NULL DEFAULT '',
    sheet          text NOT NULL DEFAULT '',
    header_line    integer NOT NULL DEFAULT 0,
    header         text[] NOT NULL DEFAULT '{}',
    mapping        jsonb NOT NULL DEFAULT '{}',
    status         text NOT NULL CHECK (status IN ('done', 'failed', 'withdrawn')),
    error          text NOT NULL DEFAULT '',
    rows_read      integer NOT NULL DEFAULT 0,
    rows_accepted  integer NOT NULL DEFAULT 0,
    rows_rejected  integer NOT NULL DEFAULT 0,
    rows_marked    integer NOT NULL DEFAULT 0,
    superseded_by  bigint REFERENCES import_batch (id),
    created_by     bigint REFERENCES app_user (id),
    created_name   text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    duration_ms    integer NOT NULL DEFAULT 0,
    withdrawn_at   timestamptz,
    withdrawn_name text NOT NULL DEFAULT ''
);
-- The same file may not be imported twice as the same kind.
CREATE UNIQUE INDEX import_batch_once ON import_batch (kind, file_sha256) WHERE status = 'done';
CREATE INDEX import_batch_region ON import_batch (region_code text_pattern_ops, created_at DESC);

-- Accepted rows, one partition per batch: a batch's rows are COPYed into a
-- fresh table that is attached when full, and reading one batch never scans
-- the others. (batch_id, line) is unique: the reader yields each line once.
CREATE TABLE source_record (
    -- Typed columns hold what comparison uses; every other column of the
    -- file (民族, 地址, 单位, 学校 ...) is kept as given in raw, found through
    -- the batch's header and mapping. Absent values are NULL, not '': COPY
    -- skips them, which makes a million-row import measurably faster.
    batch_id        bigint NOT NULL,
    line            integer NOT NULL,  -- spreadsheet row number as the user sees it
    id_norm         text,              -- normalized ID (see idcard); damaged IDs as recovered
    id_damage       text,              -- idcard damage code; NULL when the ID is valid
    name            text,
    sex             text,
    birth           date,
    household       text,
    relation        text,
    region_code     text,              -- hukou, residence or insured region, by kind
    hukou_region    text,
    pop_status      text,
    scheme          text,
    enroll_status   smallint,
    pay_status      smallint,
    enroll_date     date,
    death_date      date,
    raw             text NOT NULL      -- the row's cells as given, joined by U+001F
) PARTITION BY LIST (batch_id);
-- Rows arrive in line order, so a BRIN index is enough to find one by line.
CREATE INDEX source_record_line ON source_record USING brin (batch_id, line);

-- Rows that were rejected, and accepted rows carrying a warning (e.g. a
-- damaged ID), for the error report.
CREATE TABLE import_issue (
    batch_id  bigint NOT NULL REFERENCES import_batch (id) ON DELETE CASCADE,
    line      integer NOT NULL,
    rejected  boolean NOT NULL,
    col       text NOT NULL DEFAULT '',
    value     text NOT NULL DEFAULT '',
    reason    text NOT NULL
);
CREATE INDEX import_issue_batch ON import_issue (batch_id, line);

-- Column mappings saved by staff for a department's files.
CREATE TABLE import_template (
    id          bigserial PRIMARY KEY,
    region_code text NOT NULL REFERENCES region (code),
    kind        text NOT NULL,
    name        text NOT NULL,
    mapping     jsonb NOT NULL,  -- field key → header text
    created_by  bigint REFERENCES app_user (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (region_code, kind, name)
);
