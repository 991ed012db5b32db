-- Repair: 000002–000004 were edited after they had landed on main, and
-- golang-migrate records only a version number, so a database created from
-- an earlier main kept the older shape of those files. Each step below
-- checks for one older shape and brings it to what 000002–000004 say now,
-- keeping the data; on a database that already has the current shape every
-- step does nothing. (A database whose 000003 predates run_person_name
-- cannot apply the current 000004 at all; migrations.Prepare creates that
-- index before golang-migrate runs. testdata/migrations holds every landed
-- version, and migrations/upgrade_test.go migrates each one with data.)

-- 000002 as first landed (d78aa41): source_record held '' for absent
-- values, 'ok' for a valid ID, the raw cells as an array, four columns now
-- kept only in raw (and the raw ID), and a primary key.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute
               WHERE attrelid = 'source_record'::regclass AND attname = 'id_raw' AND NOT attisdropped) THEN
        ALTER TABLE source_record DROP CONSTRAINT IF EXISTS source_record_pkey;
        ALTER TABLE source_record
            ALTER COLUMN id_norm      DROP NOT NULL, ALTER COLUMN id_norm      DROP DEFAULT,
            ALTER COLUMN id_damage    DROP NOT NULL, ALTER COLUMN id_damage    DROP DEFAULT,
            ALTER COLUMN name         DROP NOT NULL, ALTER COLUMN name         DROP DEFAULT,
            ALTER COLUMN sex          DROP NOT NULL, ALTER COLUMN sex          DROP DEFAULT,
            ALTER COLUMN household    DROP NOT NULL, ALTER COLUMN household    DROP DEFAULT,
            ALTER COLUMN relation     DROP NOT NULL, ALTER COLUMN relation     DROP DEFAULT,
            ALTER COLUMN region_code  DROP NOT NULL, ALTER COLUMN region_code  DROP DEFAULT,
            ALTER COLUMN hukou_region DROP NOT NULL, ALTER COLUMN hukou_region DROP DEFAULT,
            ALTER COLUMN pop_status   DROP NOT NULL, ALTER COLUMN pop_status   DROP DEFAULT,
            ALTER COLUMN scheme       DROP NOT NULL, ALTER COLUMN scheme       DROP DEFAULT,
            -- the cells joined by U+001F, a NULL cell kept as an empty one
            ALTER COLUMN raw TYPE text USING array_to_string(raw, E'\x1f', '');
        UPDATE source_record SET
            id_norm = nullif(id_norm, ''), id_damage = nullif(nullif(id_damage, ''), 'ok'),
            name = nullif(name, ''), sex = nullif(sex, ''), household = nullif(household, ''),
            relation = nullif(relation, ''), region_code = nullif(region_code, ''),
            hukou_region = nullif(hukou_region, ''), pop_status = nullif(pop_status, ''),
            scheme = nullif(scheme, '');
        ALTER TABLE source_record
            DROP COLUMN id_raw, DROP COLUMN ethnic, DROP COLUMN address,
            DROP COLUMN employer, DROP COLUMN school;
    END IF;
END $$;

-- 000002 before 8782410: the BRIN index had the default range of 128 pages.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_class
                   WHERE oid = to_regclass('source_record_line') AND 'pages_per_range=16' = ANY (reloptions)) THEN
        DROP INDEX IF EXISTS source_record_line;
        CREATE INDEX source_record_line ON source_record USING brin (batch_id, line) WITH (pages_per_range = 16);
    END IF;
END $$;

-- 000003 before 7bcf902: the registry's runs were foreign keys.
ALTER TABLE person DROP CONSTRAINT IF EXISTS person_first_run_fkey,
                   DROP CONSTRAINT IF EXISTS person_last_run_fkey;

-- 000003 as first landed (b50f414): run_link had a primary key.
ALTER TABLE run_link DROP CONSTRAINT IF EXISTS run_link_pkey;

-- 000003 before 6503853: no index for the unmatched lists, run_person in
-- the database's collation and keyed by run first.
CREATE INDEX IF NOT EXISTS run_link_unlinked ON run_link (run_id, batch_id, line) WHERE id_number IS NULL;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute
               WHERE attrelid = 'run_person'::regclass AND attname = 'id_number'
                 AND attcollation <> (SELECT oid FROM pg_collation WHERE collname = 'C' AND collnamespace = 'pg_catalog'::regnamespace)) THEN
        ALTER TABLE run_person
            ALTER COLUMN id_number   TYPE text COLLATE "C",
            ALTER COLUMN name        TYPE text COLLATE "C",
            ALTER COLUMN region_code TYPE text COLLATE "C";
    END IF;
    IF EXISTS (SELECT 1 FROM pg_constraint
               WHERE conrelid = 'run_person'::regclass AND conname = 'run_person_pkey'
                 AND pg_get_constraintdef(oid) = 'PRIMARY KEY (run_id, id_number)') THEN
        ALTER TABLE run_person DROP CONSTRAINT run_person_pkey, ADD PRIMARY KEY (id_number, run_id);
    END IF;
END $$;

-- 000004 as first landed (e7dac91): no record of what changed since the
-- region's previous run. Older runs keep base_run NULL, so their diff
-- joins the two runs as it did when they were made.
ALTER TABLE comparison_run ADD COLUMN IF NOT EXISTS base_run bigint;
ALTER TABLE run_person ADD COLUMN IF NOT EXISTS changed boolean NOT NULL DEFAULT false; -- new, or a result unlike base_run's
CREATE INDEX IF NOT EXISTS run_person_changed ON run_person (id_number) WHERE changed;
CREATE TABLE IF NOT EXISTS run_gone (
    run_id      bigint NOT NULL REFERENCES comparison_run (id) ON DELETE CASCADE,
    id_number   text COLLATE "C" NOT NULL,
    name        text NOT NULL,
    region_code text COLLATE "C" NOT NULL,
    PRIMARY KEY (run_id, id_number)
);
