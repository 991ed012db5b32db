ALTER TABLE survey_form RESET (fillfactor);
CREATE INDEX survey_form_entered ON survey_form (round_id, entered_by) WHERE state <> 'superseded';
