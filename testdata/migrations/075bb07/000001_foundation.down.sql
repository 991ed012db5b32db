DROP TABLE audit_log;
DROP FUNCTION audit_log_immutable;
DROP TABLE session;
DROP TABLE app_user;
DROP TABLE region;
