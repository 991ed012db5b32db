DROP TABLE IF EXISTS survey_team_user;
