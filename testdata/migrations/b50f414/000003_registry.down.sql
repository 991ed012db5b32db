DROP TABLE link_decision;
DROP TABLE run_review;
DROP TABLE run_summary;
DROP TABLE run_person;
DROP TABLE run_link;
DROP TABLE person_change;
DROP TABLE person;
DROP TABLE comparison_run;
