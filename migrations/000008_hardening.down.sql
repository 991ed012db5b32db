ALTER TABLE import_template DROP CONSTRAINT IF EXISTS import_template_name_len;
DROP INDEX IF EXISTS audit_log_user_idx;
CREATE INDEX audit_log_user_idx ON audit_log (username, at DESC);
DROP INDEX IF EXISTS run_person_name;
CREATE INDEX run_person_name ON run_person (name);
DROP TABLE IF EXISTS server_secret;
DROP TABLE IF EXISTS login_attempt;
