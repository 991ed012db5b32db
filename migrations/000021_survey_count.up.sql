-- A round's numbers kept current instead of counted per request: the
-- progress and round pages of a county's round read a few hundred of these
-- rows where they aggregated some 400,000 members and their forms.
-- One row per round, village (household region_code) and team (0: none)
-- with clerk_id -1 holds the households' numbers; rows with clerk_id >= 0
-- hold the progress of the forms a clerk entered (0: the command line).
-- survey.countsOf in Go computes the same rows: the publish writes them
-- for the whole round, and every change that moves a number subtracts its
-- households' rows before and adds them after (survey/counts.go).
CREATE TABLE survey_count (
    round_id     bigint NOT NULL,
    region_code  text COLLATE "C" NOT NULL,
    team_id      bigint NOT NULL,
    clerk_id     bigint NOT NULL,
    households   integer NOT NULL DEFAULT 0, -- households listed (clerk rows: 0)
    persons      integer NOT NULL DEFAULT 0, -- members listed
    targets      integer NOT NULL DEFAULT 0, -- members who are targets
    assigned     integer NOT NULL DEFAULT 0, -- households with a team
    p_persons    integer NOT NULL DEFAULT 0, -- progress persons: targets or with a live form
    visited      integer NOT NULL DEFAULT 0, -- of them: live form submitted, approved or returned
    confirmed    integer NOT NULL DEFAULT 0, -- approved
    returned     integer NOT NULL DEFAULT 0, -- returned
    hh           integer NOT NULL DEFAULT 0, -- households with a progress person
    hh_visited   integer NOT NULL DEFAULT 0, -- ... any of whom is visited
    hh_confirmed integer NOT NULL DEFAULT 0, -- ... all of whom are confirmed
    PRIMARY KEY (round_id, region_code, team_id, clerk_id)
);

-- Rounds published before this version: their counts from their rows (the
-- same query as survey.countsOf over a whole round).
INSERT INTO survey_count (round_id, region_code, team_id, clerk_id, households, persons, targets, assigned,
                          p_persons, visited, confirmed, returned, hh, hh_visited, hh_confirmed)
WITH p AS (
    SELECT h.id AS hid, coalesce(f.entered_by, 0) AS clerk, f.id IS NOT NULL AS has_form,
           coalesce(f.state IN ('submitted', 'approved', 'returned'), false) AS v,
           coalesce(f.state = 'approved', false) AS c, coalesce(f.state = 'returned', false) AS r
    FROM survey_household h JOIN survey_member m ON m.household_id = h.id
    LEFT JOIN survey_form f ON f.member_id = m.id AND f.state <> 'superseded'
    WHERE (m.target OR f.id IS NOT NULL)),
hp AS (SELECT hid, count(*) AS n, count(*) FILTER (WHERE v) AS nv, count(*) FILTER (WHERE c) AS nc, count(*) FILTER (WHERE r) AS nr
       FROM p GROUP BY hid),
cp AS (SELECT hid, clerk, count(*) AS n, count(*) FILTER (WHERE v) AS nv, count(*) FILTER (WHERE c) AS nc, count(*) FILTER (WHERE r) AS nr
       FROM p WHERE has_form GROUP BY hid, clerk)
SELECT h.round_id, h.region_code, coalesce(h.team_id, 0), -1, count(*), sum(h.persons), sum(h.targets), count(h.team_id),
       coalesce(sum(hp.n), 0), coalesce(sum(hp.nv), 0), coalesce(sum(hp.nc), 0), coalesce(sum(hp.nr), 0),
       count(hp.hid), count(*) FILTER (WHERE hp.nv > 0), count(*) FILTER (WHERE hp.nc = hp.n)
FROM survey_household h LEFT JOIN hp ON hp.hid = h.id
GROUP BY 1, 2, 3, 4
UNION ALL
SELECT h.round_id, h.region_code, coalesce(h.team_id, 0), cp.clerk, 0, 0, 0, 0, sum(cp.n), sum(cp.nv), sum(cp.nc), sum(cp.nr),
       count(*), count(*) FILTER (WHERE cp.nv > 0), count(*) FILTER (WHERE cp.nc = cp.n)
FROM cp JOIN survey_household h ON h.id = cp.hid
GROUP BY 1, 2, 3, 4;

-- The entry search finds households by a member's name as typed (a
-- prefix will do): without this it read every member of every round.
CREATE INDEX survey_member_name ON survey_member (name text_pattern_ops);
-- The review queue lists a state's forms oldest submission first: read in
-- that order, a page is its 50 forms, not a sort of all of them.
CREATE INDEX survey_form_state_submitted ON survey_form (state, submitted_at, id);
-- ... and by its head's name.
CREATE INDEX survey_household_head ON survey_household (head_name text_pattern_ops);
