-- A form's village: its household's region code, kept on the form so a
-- list of forms reads in list order (village, household, member) from an
-- index. The list behind a county's 已入户 number looked up the household
-- of every visited form to sort them: a thousand lookups and more a page
-- while the survey is young, and the page's cost grew with the forms. A
-- trigger keeps the code equal to the household's whichever path writes
-- the form (a save, a member found at the door, a revision, the demo), and
-- a household moved to another village takes its forms along.
ALTER TABLE survey_form ADD COLUMN region_code text COLLATE "C" NOT NULL DEFAULT '';

UPDATE survey_form f SET region_code = h.region_code
FROM survey_household h WHERE h.id = f.household_id AND h.round_id = f.round_id;

CREATE FUNCTION survey_form_region() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.region_code := coalesce((SELECT h.region_code FROM survey_household h
                                 WHERE h.id = NEW.household_id AND h.round_id = NEW.round_id), '');
    RETURN NEW;
END $$;

CREATE TRIGGER survey_form_region BEFORE INSERT OR UPDATE OF household_id, round_id, region_code ON survey_form
    FOR EACH ROW EXECUTE FUNCTION survey_form_region();

CREATE FUNCTION survey_household_forms_region() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE survey_form SET region_code = NEW.region_code WHERE household_id = NEW.id AND round_id = NEW.round_id;
    RETURN NULL;
END $$;

CREATE TRIGGER survey_household_forms_region AFTER UPDATE OF region_code ON survey_household
    FOR EACH ROW WHEN (OLD.region_code IS DISTINCT FROM NEW.region_code) EXECUTE FUNCTION survey_household_forms_region();

-- The visited forms (submitted, approved, returned) in list order.
CREATE INDEX survey_form_visited ON survey_form (round_id, region_code, household_id, member_id)
    WHERE state IN ('submitted', 'approved', 'returned');
