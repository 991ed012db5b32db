-- A done run's persons as the next incremental comparison reads them (its
-- base): ID, name, region, result and records, packed by the run into a
-- few large values (see internal/compare/incremental_snapshot.go). Read in
-- one query instead of a million run_person rows. Runs saved before it,
-- or whose snapshot a later run of the region replaced, have no row and
-- their persons are read from run_person as before.
--
-- A run writes its snapshot in a transaction of its own, which commits
-- after the run's: the key to the run is checked at that commit, so a
-- snapshot stays only if its run committed.
CREATE TABLE run_snapshot (
    run_id bigint NOT NULL REFERENCES comparison_run (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    chunk  integer NOT NULL, -- the value's pieces, in order
    data   bytea NOT NULL,
    PRIMARY KEY (run_id, chunk)
);
-- Out of line and not compressed: the data is packed already, and
-- compressing tens of megabytes would cost the run more than it saves.
ALTER TABLE run_snapshot ALTER COLUMN data SET STORAGE EXTERNAL;
