DROP TRIGGER report_survey_household ON survey_household;
DROP TRIGGER report_survey_member ON survey_member;
DROP TRIGGER report_survey_delete ON survey_form;
DROP TRIGGER report_survey_update ON survey_form;
DROP TRIGGER report_survey_insert ON survey_form;
DROP FUNCTION report_survey_bump();
DROP TABLE report_survey_version;
