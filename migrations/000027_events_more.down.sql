-- Residence events stay as the move_in, move_out and region rows they
-- were stored as (indistinguishable, after the downgrade, from the
-- hukou's but by their batch's kind); only school events, whose kinds
-- the older check refuses, are deleted.
ALTER TABLE import_batch DROP COLUMN extract_date;
ALTER TABLE person DROP COLUMN residence, DROP COLUMN school;
DELETE FROM extract_event WHERE kind IN ('school_start', 'school_end');
ALTER TABLE extract_event DROP CONSTRAINT extract_event_kind_check,
    ADD CONSTRAINT extract_event_kind_check CHECK (kind IN ('birth', 'move_in', 'death', 'death_fix', 'move_out', 'household',
        'region', 'enroll_start', 'enroll_pause', 'enroll_resume', 'enroll_end')) NOT VALID;
ALTER TABLE extract_event VALIDATE CONSTRAINT extract_event_kind_check;
