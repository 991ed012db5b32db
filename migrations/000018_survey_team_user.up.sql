-- A team member (a name in survey_team.members) may be bound to a user
-- account of the team's township; with team_only (只看本组任务) that user
-- sees only the households assigned to their teams in every survey page.
CREATE TABLE survey_team_user (
    team_id    bigint NOT NULL REFERENCES survey_team (id) ON DELETE CASCADE,
    member     text NOT NULL,   -- the member's name in survey_team.members
    user_id    bigint NOT NULL REFERENCES app_user (id),
    team_only  boolean NOT NULL DEFAULT false,
    bound_by   bigint REFERENCES app_user (id),
    bound_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, member),
    UNIQUE (team_id, user_id)
);
-- Every survey read of a user looks their bindings up by user.
CREATE INDEX survey_team_user_user ON survey_team_user (user_id, team_id);
