DROP INDEX survey_form_household;
CREATE INDEX survey_member_id_number ON survey_member (id_number);
ALTER TABLE survey_member ADD CONSTRAINT survey_member_round_id_id_number_key UNIQUE (round_id, id_number);
DROP INDEX survey_member_person_round;
ALTER TABLE survey_household ADD CONSTRAINT survey_household_round_id_fkey
    FOREIGN KEY (round_id) REFERENCES survey_round (id) ON DELETE CASCADE;
