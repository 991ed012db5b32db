-- The history of every survey form's state: who moved it from which state
-- to which, when, and why (a return's reason). The audit log has the same
-- lines; this table is what the form page and the clerk read back.
CREATE TABLE survey_form_event (
    id          bigserial PRIMARY KEY,
    form_id     bigint NOT NULL REFERENCES survey_form (id) ON DELETE CASCADE,
    from_state  text NOT NULL,   -- 'pending' when the form was created
    to_state    text NOT NULL,
    version     integer NOT NULL, -- the form's version after the change
    actor_id    bigint REFERENCES app_user (id),
    actor_name  text NOT NULL DEFAULT '',
    note        text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX survey_form_event_form ON survey_form_event (form_id, id);

-- A person's forms across rounds (the person page, the comparison's
-- approved-form check); progress reads forms by clerk.
CREATE INDEX survey_member_id_number ON survey_member (id_number);
CREATE INDEX survey_form_entered ON survey_form (round_id, entered_by) WHERE state <> 'superseded';
