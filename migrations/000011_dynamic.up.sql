-- 动态管理: the registry kept current between comparisons, from newer
-- extracts (extract_event) and from a clerk's change registration approved
-- by a county reviewer (manual_change).

-- Fields only a manual change (address, phone) or an event (death date,
-- enrollment) sets; comparisons leave them alone. enrollment holds each
-- scheme's state as the extracts last reported it ("居民医疗:正常参保、...").
ALTER TABLE person ADD COLUMN address text,
                   ADD COLUMN phone text,
                   ADD COLUMN death_date date,
                   ADD COLUMN enrollment text;

-- What changed between an extract and the one of the same kind, region and
-- source it superseded, one row per person and change. state: auto (applied
-- to the registry when derived), pending (waits for a clerk: the change is
-- ambiguous, hold_reason says why), applied (confirmed by a clerk),
-- rejected (a clerk said it is wrong; the registry was not touched).
CREATE TABLE extract_event (
    id           bigserial PRIMARY KEY,
    batch_id     bigint NOT NULL REFERENCES import_batch (id),
    prev_batch   bigint NOT NULL,  -- the superseded batch (no foreign key: a check per event costs seconds in a million-person county)
    kind         text NOT NULL CHECK (kind IN ('birth', 'move_in', 'death', 'death_fix', 'move_out', 'household',
                                               'region', 'enroll_start', 'enroll_pause', 'enroll_resume', 'enroll_end')),
    id_number    text NOT NULL,
    name         text NOT NULL DEFAULT '',
    region_code  text COLLATE "C" NOT NULL,  -- the record's region (the old one for a person gone)
    effective    date NOT NULL,
    scheme       text,                       -- enrollment events
    old_value    text,                       -- what the older extract said, for people
    new_value    text,                       -- what the newer one says
    hold_reason  text NOT NULL DEFAULT '',
    state        text NOT NULL CHECK (state IN ('auto', 'pending', 'applied', 'rejected')),
    decided_by   bigint REFERENCES app_user (id),
    decided_name text NOT NULL DEFAULT '',
    decided_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- The events list: a region's events, newest first, and its pending ones.
CREATE INDEX extract_event_region ON extract_event (region_code, id DESC);
CREATE INDEX extract_event_pending ON extract_event (region_code, id) WHERE state = 'pending';
CREATE INDEX extract_event_batch ON extract_event (batch_id);
CREATE INDEX extract_event_person ON extract_event (id_number);

-- A change registered by hand (变更登记, 注销登记): made by one clerk, it
-- reaches the registry only when another user, a county reviewer, approves
-- it (maker-checker). changes maps person columns to their new values,
-- old_values what the registry said when the change was made.
CREATE TABLE manual_change (
    id            bigserial PRIMARY KEY,
    id_number     text NOT NULL,
    region_code   text COLLATE "C" NOT NULL,  -- the person's region when registered: who sees the change
    kind          text NOT NULL CHECK (kind IN ('change', 'cancel')),
    changes       jsonb NOT NULL,
    old_values    jsonb NOT NULL,
    effective     date NOT NULL,
    reason        text NOT NULL CHECK (char_length(reason) <= 500),
    state         text NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    made_by       bigint REFERENCES app_user (id),
    made_name     text NOT NULL,
    made_at       timestamptz NOT NULL DEFAULT now(),
    decided_by    bigint REFERENCES app_user (id),
    decided_name  text NOT NULL DEFAULT '',
    decided_at    timestamptz,
    decision_note text NOT NULL DEFAULT '' CHECK (char_length(decision_note) <= 500)
);
CREATE INDEX manual_change_region ON manual_change (region_code, id DESC);
CREATE INDEX manual_change_person ON manual_change (id_number);

-- The scanned document behind a change (a death certificate, a migration
-- certificate), kept in the database with its hash so a backup holds it.
CREATE TABLE manual_change_document (
    change_id    bigint PRIMARY KEY REFERENCES manual_change (id),
    file_name    text NOT NULL CHECK (char_length(file_name) <= 200),
    content_type text NOT NULL,
    size         integer NOT NULL CHECK (size > 0 AND size <= 5242880),
    sha256       text NOT NULL,
    content      bytea NOT NULL
);
