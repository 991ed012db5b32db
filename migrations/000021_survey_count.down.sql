DROP INDEX IF EXISTS survey_household_head;
DROP INDEX IF EXISTS survey_form_state_submitted;
DROP INDEX IF EXISTS survey_member_name;
DROP TABLE IF EXISTS survey_count;
