DROP TABLE IF EXISTS survey_archive;
DROP TABLE IF EXISTS survey_team_village;
DROP TABLE IF EXISTS survey_form;
DROP TABLE IF EXISTS survey_member;
DROP TABLE IF EXISTS survey_household;
DROP TABLE IF EXISTS survey_team;
DROP TABLE IF EXISTS survey_round;
DROP FUNCTION IF EXISTS survey_task_code(bigint);
