-- Daily snapshots of the progress indicators (internal/indicator): one row
-- per day, region (every level from the top down to villages) and
-- indicator, written by the snapshot job. Trends, the leaders' dashboard and
-- bulletins read these rows instead of counting millions of persons per
-- request. A count (常住人口) has denominator 0.
CREATE TABLE indicator_snapshot (
    day          date NOT NULL,
    region_code  text COLLATE "C" NOT NULL,
    indicator    text NOT NULL,
    numerator    bigint NOT NULL,
    denominator  bigint NOT NULL,
    -- a day's region and its children (a prefix of one day's codes)
    PRIMARY KEY (day, region_code, indicator)
);
-- a region's trend over the days
CREATE INDEX indicator_snapshot_trend ON indicator_snapshot (region_code, day);

-- The not-insured persons of a snapshot counted by one dimension (reason,
-- age band, sex, scheme): the statistics page reads these rows.
CREATE TABLE indicator_breakdown (
    day          date NOT NULL,
    region_code  text COLLATE "C" NOT NULL,
    dimension    text NOT NULL,
    bucket       text NOT NULL,
    n            bigint NOT NULL,
    PRIMARY KEY (day, region_code, dimension, bucket)
);

-- One row per snapshot day: when it was computed and from what, so a page
-- says how fresh its numbers are. A day is recomputed whole (its rows
-- replaced in one transaction).
CREATE TABLE indicator_day (
    day          date PRIMARY KEY,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    duration_ms  integer NOT NULL DEFAULT 0,
    runs         bigint[] NOT NULL DEFAULT '{}',  -- the comparison runs counted
    rounds       bigint[] NOT NULL DEFAULT '{}'   -- the survey rounds counted
);
