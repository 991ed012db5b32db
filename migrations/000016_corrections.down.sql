DROP INDEX IF EXISTS survey_form_member;
DROP INDEX IF EXISTS person_event_other;
