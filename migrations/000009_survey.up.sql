-- Task codes: 6 characters from an alphabet without look-alikes (no 0/O,
-- 1/I/L) and a check character, so a code typed back from paper is
-- recognised and a mistyped one refused. The six come from the household's
-- id through a bijection of [0, 31^6), so codes are unique without a
-- lookup and a publish can make them in one INSERT ... SELECT. Character
-- k (1-6) is digit 6-k of that number in base 31; the check character is
-- the sum of k times digit k, mod 31.
-- survey.TaskCode computes the same in Go (a test holds them together).
-- One SQL expression, so the planner inlines it: a publish computes a
-- hundred thousand codes, and a plpgsql loop costs twice as much.
CREATE FUNCTION survey_task_code(id bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT substr('23456789ABCDEFGHJKMNPQRSTUVWXYZ', ((((id % 887503681) * 387420489 + 123456789) % 887503681) / 28629151 % 31)::int + 1, 1)
    || substr('23456789ABCDEFGHJKMNPQRSTUVWXYZ', ((((id % 887503681) * 387420489 + 123456789) % 887503681) / 923521 % 31)::int + 1, 1)
    || substr('23456789ABCDEFGHJKMNPQRSTUVWXYZ', ((((id % 887503681) * 387420489 + 123456789) % 887503681) / 29791 % 31)::int + 1, 1)
    || substr('23456789ABCDEFGHJKMNPQRSTUVWXYZ', ((((id % 887503681) * 387420489 + 123456789) % 887503681) / 961 % 31)::int + 1, 1)
    || substr('23456789ABCDEFGHJKMNPQRSTUVWXYZ', ((((id % 887503681) * 387420489 + 123456789) % 887503681) / 31 % 31)::int + 1, 1)
    || substr('23456789ABCDEFGHJKMNPQRSTUVWXYZ', ((((id % 887503681) * 387420489 + 123456789) % 887503681) % 31)::int + 1, 1)
    || substr('23456789ABCDEFGHJKMNPQRSTUVWXYZ', ((1 * ((((id % 887503681) * 387420489 + 123456789) % 887503681) / 28629151 % 31)
                                                       + 2 * ((((id % 887503681) * 387420489 + 123456789) % 887503681) / 923521 % 31)
                                                       + 3 * ((((id % 887503681) * 387420489 + 123456789) % 887503681) / 29791 % 31)
                                                       + 4 * ((((id % 887503681) * 387420489 + 123456789) % 887503681) / 961 % 31)
                                                       + 5 * ((((id % 887503681) * 387420489 + 123456789) % 887503681) / 31 % 31)
                                                       + 6 * ((((id % 887503681) * 387420489 + 123456789) % 887503681) % 31)) % 31)::int + 1, 1)
$$;

-- 入户调查: a survey round is published from a comparison run for a region
-- (usually a county). Its targets are visited by household: every member
-- of a target's household is listed (户不漏人), split county → township →
-- village, and households are assigned to teams of a township.
CREATE TABLE survey_round (
    id           bigserial PRIMARY KEY,
    region_code  text NOT NULL REFERENCES region (code),
    title        text NOT NULL,
    run_id       bigint NOT NULL REFERENCES comparison_run (id), -- the run it was published or last topped up from
    deadline     date,
    households   integer NOT NULL DEFAULT 0,
    persons      integer NOT NULL DEFAULT 0, -- members listed
    targets      integer NOT NULL DEFAULT 0, -- members who are survey targets
    created_by   bigint REFERENCES app_user (id),
    created_name text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX survey_round_region ON survey_round (region_code text_pattern_ops, id DESC);

-- 调查组: a township's survey teams, kept across rounds.
CREATE TABLE survey_team (
    id           bigserial PRIMARY KEY,
    region_code  text NOT NULL REFERENCES region (code), -- the township
    name         text NOT NULL,
    members      jsonb NOT NULL DEFAULT '[]',             -- [{"name": ..., "phone": ...}]
    active       boolean NOT NULL DEFAULT true,
    created_by   bigint REFERENCES app_user (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (region_code, name)
);

-- One household to visit in a round. A resident without a 户号 is a
-- household of one (household = '' and one member).
CREATE TABLE survey_household (
    id           bigserial PRIMARY KEY,
    round_id     bigint NOT NULL REFERENCES survey_round (id) ON DELETE CASCADE,
    code         text NOT NULL UNIQUE,          -- short task code, printed with its QR code
    household    text NOT NULL,                 -- 户号
    region_code  text COLLATE "C" NOT NULL,     -- the village (or the deepest region known)
    address      text NOT NULL DEFAULT '',
    head_name    text NOT NULL DEFAULT '',
    team_id      bigint REFERENCES survey_team (id),
    targets      integer NOT NULL DEFAULT 0,    -- members who are targets now
    added_run    bigint NOT NULL,               -- the run that brought it into the round
    persons      integer NOT NULL DEFAULT 0     -- members listed (found ones included)
);
-- A 户号 is one household per round and village; households of one
-- (household = '') are told apart by their member (survey_member is
-- unique per round and person), so they stay out of this key.
CREATE UNIQUE INDEX survey_household_key ON survey_household (round_id, household, region_code) WHERE household <> '';
CREATE INDEX survey_household_region ON survey_household (round_id, region_code, id);
CREATE INDEX survey_household_team ON survey_household (team_id) WHERE team_id IS NOT NULL;

-- Every member listed for a household: targets with what the data says and
-- what is wrong, the other members so the visit covers them all. A member
-- who is no longer a target after a top-up keeps target = false and
-- dropped_run set; nothing entered for them is lost.
-- No foreign key to the household (as person's runs have none): a county's
-- publish inserts some 400,000 members in one statement, and a check a row
-- was 40% of it. Members are written only with their household, by the
-- publish, and no household is ever deleted.
CREATE TABLE survey_member (
    id           bigserial PRIMARY KEY,
    household_id bigint NOT NULL,
    round_id     bigint NOT NULL,
    id_number    text COLLATE "C" NOT NULL,
    name         text NOT NULL,
    relation     text NOT NULL DEFAULT '',
    target       boolean NOT NULL,
    pension      text NOT NULL DEFAULT '',      -- statuses and flags of the run that listed it
    medical      text NOT NULL DEFAULT '',
    flags        integer NOT NULL DEFAULT 0,    -- compare.Flag bits
    added_run    bigint NOT NULL,
    dropped_run  bigint,                         -- the top-up run where it stopped being a target
    found        boolean NOT NULL DEFAULT false, -- found at the door, on no list
    UNIQUE (round_id, id_number)
);
CREATE INDEX survey_member_household ON survey_member (household_id, id);

-- 全民参保登记表: one form per member and visit. A member's live form is
-- the one not superseded; its state is the member's survey state (no live
-- form: 待调查 pending). draft 调查中 → submitted 已提交 → approved 已入库 or
-- returned 已退回 (→ draft again on edit → submitted ...). An approved form is
-- never edited: a new form supersedes it. Counted as
--   visited (入户)   : live form submitted, approved or returned
--   confirmed (完成) : live form approved
--   corrected (更正) : live form approved and the member flagged 信息有误
-- so the survey's progress pages and the reports count the same persons.
CREATE TABLE survey_form (
    id            bigserial PRIMARY KEY,
    member_id     bigint NOT NULL REFERENCES survey_member (id) ON DELETE CASCADE,
    household_id  bigint NOT NULL,
    round_id      bigint NOT NULL,
    state         text NOT NULL CHECK (state IN ('draft', 'submitted', 'approved', 'returned', 'superseded')),
    version       integer NOT NULL DEFAULT 1,     -- optimistic locking: every save bumps it
    data          jsonb NOT NULL DEFAULT '{}',    -- the form's items as entered (DOMAIN §6)
    outcome       text NOT NULL DEFAULT 'present' CHECK (outcome IN ('present', 'moved', 'died')),
    outcome_date  date,                           -- when the member moved away or died
    willing       text NOT NULL DEFAULT '',       -- 参保意愿
    reason        text NOT NULL DEFAULT '',       -- 未参保原因
    surveyed_on   date,                           -- 调查日期
    submit_key    text UNIQUE,                    -- idempotency key of the last submission
    entered_by    bigint REFERENCES app_user (id),
    entered_name  text NOT NULL DEFAULT '',
    submitted_at  timestamptz,
    reviewed_by   bigint REFERENCES app_user (id),
    reviewed_name text NOT NULL DEFAULT '',
    reviewed_at   timestamptz,
    return_reason text NOT NULL DEFAULT '',
    supersedes    bigint REFERENCES survey_form (id),
    corrected     integer NOT NULL DEFAULT 0,     -- registry fields the approval changed
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX survey_form_live ON survey_form (member_id) WHERE state <> 'superseded';
CREATE INDEX survey_form_round_state ON survey_form (round_id, state);

-- Which team a village's households go to, kept so a top-up assigns new
-- households of the village the same way.
CREATE TABLE survey_team_village (
    round_id     bigint NOT NULL REFERENCES survey_round (id) ON DELETE CASCADE,
    village_code text NOT NULL,
    team_id      bigint NOT NULL REFERENCES survey_team (id),
    PRIMARY KEY (round_id, village_code)
);

-- 归档: where a village's paper forms are kept.
CREATE TABLE survey_archive (
    round_id      bigint NOT NULL REFERENCES survey_round (id) ON DELETE CASCADE,
    village_code  text NOT NULL,
    boxes         integer NOT NULL CHECK (boxes > 0),
    note          text NOT NULL DEFAULT '',
    archived_by   bigint REFERENCES app_user (id),
    archived_name text NOT NULL DEFAULT '',
    archived_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (round_id, village_code)
);
