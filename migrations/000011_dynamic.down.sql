DROP TABLE IF EXISTS manual_change_document;
DROP TABLE IF EXISTS manual_change;
DROP TABLE IF EXISTS extract_event;
ALTER TABLE person DROP COLUMN IF EXISTS address, DROP COLUMN IF EXISTS phone,
                   DROP COLUMN IF EXISTS death_date, DROP COLUMN IF EXISTS enrollment;
