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

-- Accepted rows, one partition per batch: a batch's rows are written into a
-- fresh table (fast COPY), and withdrawing or dropping a batch never scans
-- the others.
CREATE TABLE source_record (
    batch_id        bigint NOT NULL,
    line            integer NOT NULL,  -- spreadsheet row number as the user sees it
    id_raw          text NOT NULL DEFAULT '',
    id_norm         text NOT NULL DEFAULT '',
    id_damage       text NOT NULL DEFAULT 'ok',
    name            text NOT NULL DEFAULT '',
    sex             text NOT NULL DEFAULT '',
    birth           date,
    ethnic          text NOT NULL DEFAULT '',
    household       text NOT NULL DEFAULT '',
    relation        text NOT NULL DEFAULT '',
    address         text NOT NULL DEFAULT '',
    region_code     text NOT NULL DEFAULT '',  -- hukou, residence or insured region, by kind
    hukou_region    text NOT NULL DEFAULT '',
    pop_status      text NOT NULL DEFAULT '',
    scheme          text NOT NULL DEFAULT '',
    enroll_status   smallint,
    pay_status      smallint,
    enroll_date     date,
    employer        text NOT NULL DEFAULT '',
    death_date      date,
    school          text NOT NULL DEFAULT '',
    raw             text[] NOT NULL,           -- the row's cells as given
    PRIMARY KEY (batch_id, line)
) PARTITION BY LIST (batch_id);

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
