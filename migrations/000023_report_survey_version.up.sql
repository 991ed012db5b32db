-- The basic tables' survey columns count every person's latest approved
-- survey form, a scan of a county's approved forms. Pages keep those
-- counts in memory and reuse them while this number is unchanged; it goes
-- up in the same transaction as any change that can move them: a form
-- becoming, staying or ceasing to be approved, or a member's name, target
-- or ID changing (a top-up). One row: its lock orders the changes by
-- commit, so a reader that reads it before the forms never keeps numbers
-- older than the number it read. Draft saves and submissions leave it
-- alone, so clerks entering forms never wait on it.
CREATE TABLE report_survey_version (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    n   bigint NOT NULL
);
INSERT INTO report_survey_version (n) VALUES (0);

CREATE FUNCTION report_survey_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'survey_form' THEN
        IF TG_OP = 'INSERT' THEN
            IF NOT EXISTS (SELECT 1 FROM new_rows WHERE state = 'approved') THEN RETURN NULL; END IF;
        ELSIF TG_OP = 'UPDATE' THEN
            IF NOT EXISTS (SELECT 1 FROM new_rows WHERE state = 'approved')
               AND NOT EXISTS (SELECT 1 FROM old_rows WHERE state = 'approved') THEN RETURN NULL; END IF;
        ELSIF NOT EXISTS (SELECT 1 FROM old_rows WHERE state = 'approved') THEN
            RETURN NULL;
        END IF;
    END IF;
    UPDATE report_survey_version SET n = n + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER report_survey_insert AFTER INSERT ON survey_form
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_survey_bump();
CREATE TRIGGER report_survey_update AFTER UPDATE ON survey_form
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_survey_bump();
CREATE TRIGGER report_survey_delete AFTER DELETE ON survey_form
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_survey_bump();
CREATE TRIGGER report_survey_member AFTER UPDATE OF name, target, id_number OR DELETE ON survey_member
    FOR EACH STATEMENT EXECUTE FUNCTION report_survey_bump();
CREATE TRIGGER report_survey_household AFTER UPDATE OF region_code OR DELETE ON survey_household
    FOR EACH STATEMENT EXECUTE FUNCTION report_survey_bump();
