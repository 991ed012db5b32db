-- A round's households and members in a partition of their own. A
-- county's publish writes some 100,000 households and 400,000 members;
-- inserted one by one into the shared tables, every row updated every
-- index (eight in all) and that was two thirds of the publish. Now the
-- publish fills a new table, and attaching it as the round's partition
-- builds each index in one sorted pass, as a comparison run's partitions
-- are made. A top-up, a member found at the door and rounds made by hand
-- (the demo) write through the tables as before: rounds without a
-- partition of their own land in the default one.

-- A key of a partitioned table holds its partition key: a form's member
-- is (id, round_id), and a household's task code is unique by
-- construction (a bijection of its id), no longer by an index.
ALTER TABLE survey_form DROP CONSTRAINT survey_form_member_id_fkey;

ALTER TABLE survey_household RENAME TO survey_household_old;
ALTER TABLE survey_household_old DROP CONSTRAINT survey_household_pkey;
ALTER TABLE survey_household_old DROP CONSTRAINT survey_household_code_key;
ALTER TABLE survey_household_old DROP CONSTRAINT survey_household_team_id_fkey;
ALTER INDEX survey_household_key RENAME TO survey_household_old_key;
ALTER INDEX survey_household_region RENAME TO survey_household_old_region;
ALTER INDEX survey_household_team RENAME TO survey_household_old_team;
ALTER INDEX survey_household_head RENAME TO survey_household_old_head;

CREATE TABLE survey_household (LIKE survey_household_old INCLUDING DEFAULTS) PARTITION BY LIST (round_id);
ALTER SEQUENCE survey_household_id_seq OWNED BY survey_household.id;
ALTER TABLE survey_household ADD PRIMARY KEY (id, round_id);
CREATE INDEX survey_household_code ON survey_household (code);
CREATE UNIQUE INDEX survey_household_key ON survey_household (round_id, household, region_code) WHERE household <> '';
CREATE INDEX survey_household_region ON survey_household (round_id, region_code, id);
CREATE INDEX survey_household_team ON survey_household (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX survey_household_head ON survey_household (head_name text_pattern_ops);
ALTER TABLE survey_household ADD CONSTRAINT survey_household_team_id_fkey FOREIGN KEY (team_id) REFERENCES survey_team (id);

ALTER TABLE survey_member RENAME TO survey_member_old;
ALTER TABLE survey_member_old DROP CONSTRAINT survey_member_pkey;
ALTER INDEX survey_member_household RENAME TO survey_member_old_household;
ALTER INDEX survey_member_person_round RENAME TO survey_member_old_person_round;
ALTER INDEX survey_member_name RENAME TO survey_member_old_name;

CREATE TABLE survey_member (LIKE survey_member_old INCLUDING DEFAULTS) PARTITION BY LIST (round_id);
ALTER SEQUENCE survey_member_id_seq OWNED BY survey_member.id;
ALTER TABLE survey_member ADD PRIMARY KEY (id, round_id);
CREATE INDEX survey_member_household ON survey_member (household_id, id);
CREATE UNIQUE INDEX survey_member_person_round ON survey_member (id_number, round_id);
CREATE INDEX survey_member_name ON survey_member (name text_pattern_ops);

-- The rounds published so far keep their rows where they are: the old
-- tables become one partition of all of them (their indexes attach as
-- they are; the keys above are built on them once).
DO $$
DECLARE
    rounds text;
BEGIN
    SELECT string_agg(r::text, ', ' ORDER BY r) INTO rounds
    FROM (SELECT id AS r FROM survey_round UNION SELECT round_id FROM survey_household_old
          UNION SELECT round_id FROM survey_member_old) x;
    IF rounds IS NULL THEN
        DROP TABLE survey_household_old, survey_member_old;
    ELSE
        EXECUTE format('ALTER TABLE survey_household ATTACH PARTITION survey_household_old FOR VALUES IN (%s)', rounds);
        EXECUTE format('ALTER TABLE survey_member ATTACH PARTITION survey_member_old FOR VALUES IN (%s)', rounds);
    END IF;
END $$;

CREATE TABLE survey_household_default PARTITION OF survey_household DEFAULT;
CREATE TABLE survey_member_default PARTITION OF survey_member DEFAULT;

ALTER TABLE survey_form ADD CONSTRAINT survey_form_member_id_fkey
    FOREIGN KEY (member_id, round_id) REFERENCES survey_member (id, round_id) ON DELETE CASCADE;
