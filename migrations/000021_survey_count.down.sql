DROP TABLE IF EXISTS survey_count;
