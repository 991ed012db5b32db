-- Failed logins counted per user name, whether or not an account of that
-- name exists, so an unknown name takes the same path (and time) as a
-- known one and the lock message reveals nothing. A login attempt is
-- counted here before its password is hashed: parallel guesses cannot
-- outrun the lock. Names are stored cut to 64 characters.
CREATE TABLE login_attempt (
    name         text PRIMARY KEY CHECK (char_length(name) <= 64),
    failures     integer NOT NULL,
    locked_until timestamptz,
    last_attempt timestamptz NOT NULL  -- failures older than the lock duration are forgotten
);

-- Secrets the server derives keys from (opaque person keys in URLs, CSRF
-- tokens bound to a session); made once, kept across restarts.
CREATE TABLE server_secret (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);

-- No index may depend on unbounded text: one oversized cell in an extract
-- must never make a comparison (or an audit line) fail with "index row
-- size exceeds the btree maximum". Names are indexed by their first 64
-- characters, which serves prefix search just as well.
DROP INDEX IF EXISTS run_person_name;
CREATE INDEX run_person_name ON run_person (left(name, 64));

DROP INDEX IF EXISTS audit_log_user_idx;
CREATE INDEX audit_log_user_idx ON audit_log (left(username, 64), at DESC);

-- Template names come from a form; the unique key on them must stay small.
ALTER TABLE import_template ADD CONSTRAINT import_template_name_len CHECK (char_length(name) <= 100) NOT VALID;
