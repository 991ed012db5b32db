-- Administrative divisions. Codes keep their natural length so that
-- "inside a region" is a prefix test: 44 ⊃ 4409 ⊃ 440981 ⊃ 440981107 ⊃ 440981107204.
-- The root row '' (全国) lets an installation-wide admin be scoped like anyone else.
CREATE TABLE region (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    level       smallint NOT NULL CHECK (level BETWEEN 0 AND 5),
    parent_code text REFERENCES region (code),
    CHECK ((code = '' AND parent_code IS NULL) OR (code <> '' AND parent_code IS NOT NULL))
);
CREATE INDEX region_parent_idx ON region (parent_code);
CREATE INDEX region_code_prefix_idx ON region (code text_pattern_ops);
INSERT INTO region (code, name, level, parent_code) VALUES ('', '全国', 0, NULL);

CREATE TABLE app_user (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'city', 'county', 'township', 'leader')),
    region_code   text NOT NULL REFERENCES region (code),
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Only a hash of the session token is stored, so a leaked table cannot be
-- replayed as cookies.
CREATE TABLE session (
    token_hash  bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),
    ip          text NOT NULL DEFAULT '',
    user_agent  text NOT NULL DEFAULT ''
);
CREATE INDEX session_user_idx ON session (user_id);

CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    user_id   bigint,
    username  text NOT NULL DEFAULT '',
    -- the acting user's region, so a regional admin reads only their own trail
    region_code text NOT NULL DEFAULT '',
    ip        text NOT NULL DEFAULT '',
    action    text NOT NULL,
    object    text NOT NULL DEFAULT '',
    result    text NOT NULL DEFAULT 'ok',
    detail    text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_user_idx ON audit_log (username, at DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, at DESC);

-- The audit trail is append-only: no role, not even the application's own,
-- may rewrite history.
CREATE FUNCTION audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_immutable();
