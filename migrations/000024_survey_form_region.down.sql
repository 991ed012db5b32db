DROP INDEX survey_form_visited;
DROP TRIGGER survey_household_forms_region ON survey_household;
DROP FUNCTION survey_household_forms_region();
DROP TRIGGER survey_form_region ON survey_form;
DROP FUNCTION survey_form_region();
ALTER TABLE survey_form DROP COLUMN region_code;
