DROP INDEX IF EXISTS survey_form_entered;
DROP INDEX IF EXISTS survey_member_id_number;
DROP INDEX IF EXISTS survey_member_name;
DROP TABLE IF EXISTS survey_form_event;
