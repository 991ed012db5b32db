DROP INDEX IF EXISTS survey_form_entered;
DROP INDEX IF EXISTS survey_member_id_number;
DROP TABLE IF EXISTS survey_form_event;
