ALTER TABLE survey_form DROP CONSTRAINT survey_form_member_id_fkey;

CREATE TABLE survey_household_plain (LIKE survey_household INCLUDING DEFAULTS);
INSERT INTO survey_household_plain SELECT * FROM survey_household;
ALTER SEQUENCE survey_household_id_seq OWNED BY survey_household_plain.id;
DROP TABLE survey_household;
ALTER TABLE survey_household_plain RENAME TO survey_household;
ALTER TABLE survey_household ADD CONSTRAINT survey_household_pkey PRIMARY KEY (id);
ALTER TABLE survey_household ADD CONSTRAINT survey_household_code_key UNIQUE (code);
CREATE UNIQUE INDEX survey_household_key ON survey_household (round_id, household, region_code) WHERE household <> '';
CREATE INDEX survey_household_region ON survey_household (round_id, region_code, id);
CREATE INDEX survey_household_team ON survey_household (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX survey_household_head ON survey_household (head_name text_pattern_ops);
ALTER TABLE survey_household ADD CONSTRAINT survey_household_team_id_fkey FOREIGN KEY (team_id) REFERENCES survey_team (id);

CREATE TABLE survey_member_plain (LIKE survey_member INCLUDING DEFAULTS);
INSERT INTO survey_member_plain SELECT * FROM survey_member;
ALTER SEQUENCE survey_member_id_seq OWNED BY survey_member_plain.id;
DROP TABLE survey_member;
ALTER TABLE survey_member_plain RENAME TO survey_member;
ALTER TABLE survey_member ADD CONSTRAINT survey_member_pkey PRIMARY KEY (id);
CREATE INDEX survey_member_household ON survey_member (household_id, id);
CREATE UNIQUE INDEX survey_member_person_round ON survey_member (id_number, round_id);
CREATE INDEX survey_member_name ON survey_member (name text_pattern_ops);

ALTER TABLE survey_form ADD CONSTRAINT survey_form_member_id_fkey
    FOREIGN KEY (member_id) REFERENCES survey_member (id) ON DELETE CASCADE;
