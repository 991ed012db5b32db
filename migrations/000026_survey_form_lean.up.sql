-- A form's save writes survey_form and every one of its indexes: 200
-- clerks save and submit at once, and a submission's new version (its
-- state changes) goes into each index. survey_form_entered (000010) is
-- read by no plan: every reader of a clerk's forms asks for
-- coalesce(entered_by, 0), which an index on entered_by cannot answer, so
-- it served at most as an index of a round's live forms, which
-- survey_form_round_state (round_id, state) is too.
DROP INDEX survey_form_entered;

-- Room on each page for a form's next version: a draft saved again
-- changes no indexed column, so with room on its page the new version
-- goes there without any index entry (a HOT update), and a submission's
-- new version stays on its page. Without it, on the city-sized county
-- almost no re-save was HOT (the pages had filled with new forms).
ALTER TABLE survey_form SET (fillfactor = 80);
