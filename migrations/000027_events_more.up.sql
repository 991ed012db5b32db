-- 动态管理 of 居住人口 and 在校学生 extracts, and the date an extract was
-- taken (数据日期).

-- A student newly listed (入学) and one no longer listed (离校). Residence
-- moves reuse move_in, move_out and region: the batch's kind tells them
-- from the hukou's. NOT VALID, then VALIDATE: the existing events are
-- checked under SHARE UPDATE EXCLUSIVE, not the ACCESS EXCLUSIVE lock of
-- ADD CONSTRAINT. (golang-migrate sends the file as one implicit
-- transaction, which holds the ADD's lock to its end all the same; the
-- split pays when an operator runs the statements one by one.)
ALTER TABLE extract_event DROP CONSTRAINT extract_event_kind_check,
    ADD CONSTRAINT extract_event_kind_check CHECK (kind IN ('birth', 'move_in', 'death', 'death_fix', 'move_out', 'household',
        'region', 'enroll_start', 'enroll_pause', 'enroll_resume', 'enroll_end', 'school_start', 'school_end')) NOT VALID;
ALTER TABLE extract_event VALIDATE CONSTRAINT extract_event_kind_check;
-- Newer 居住人口 and 在校学生 extracts imported before had nothing to
-- derive: they count as derived, so none is offered for a late derivation,
-- which would apply an old extract's changes over newer ones.
UPDATE import_batch SET derived_at = created_at
WHERE kind IN ('居住人口', '在校学生') AND status = 'done' AND derived_at IS NULL;

-- Fields only events set, as enrollment is: the residence region as the
-- 居住人口 extracts last reported it, and the school as the 在校学生
-- extracts did ('' or NULL: not listed). Comparisons leave them alone.
ALTER TABLE person ADD COLUMN residence text,
                   ADD COLUMN school text;

-- The day the department took the extract, given at import (the importer
-- writes the import day when none is given; no default, so nothing
-- inserts a day in the session's time zone). A newer extract's events
-- take effect on it, and births are told from moves in by it. Batches
-- imported before it was asked for were taken, as far as anyone knows, on
-- the day (China time) they were imported.
ALTER TABLE import_batch ADD COLUMN extract_date date;
UPDATE import_batch SET extract_date = (created_at AT TIME ZONE 'Asia/Shanghai')::date;
ALTER TABLE import_batch ALTER COLUMN extract_date SET NOT NULL;
