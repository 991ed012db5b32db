-- Incremental re-comparison (issue 13). A run says how it was made: a full
-- run reads every record; an incremental one re-links and re-classifies
-- only the persons touched since its base run and reuses the rest.
-- mode_note says why a requested incremental run ran in full, or how many
-- persons it touched.
ALTER TABLE comparison_run
    ADD COLUMN mode text NOT NULL DEFAULT 'full' CHECK (mode IN ('full', 'incremental')),
    ADD COLUMN mode_note text NOT NULL DEFAULT '',
    -- The newest person_event when the run committed its registry changes
    -- (registry writers take turns, so every later event has a larger id):
    -- an incremental run re-reads the persons changed after it.
    ADD COLUMN event_mark bigint;
