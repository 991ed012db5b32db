-- A county's publish inserts some 100,000 survey households and 400,000
-- members in two statements, and every index and check a row costs there.

-- The check of each household against survey_round was a tenth of its
-- insert. Households are written only by the publish, in the transaction
-- that creates or locks their round, and no round is ever deleted (as
-- survey_member has no key to its household, for the same reason).
ALTER TABLE survey_household DROP CONSTRAINT IF EXISTS survey_household_round_id_fkey;

-- One index where there were two: a person's members across rounds (the
-- person page) and the one member per round and person (a unique key
-- need not have its columns in the order of the constraint).
CREATE UNIQUE INDEX survey_member_person_round ON survey_member (id_number, round_id);
ALTER TABLE survey_member DROP CONSTRAINT survey_member_round_id_id_number_key;
DROP INDEX survey_member_id_number;

-- A task list counts each household's visited and approved forms.
CREATE INDEX survey_form_household ON survey_form (household_id, state);
