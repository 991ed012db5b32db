-- Long-running work (imports, comparisons, later reports) as rows, so the
-- progress page, the CLI and a restarted server all see the same state.
CREATE TABLE job (
    id               bigserial PRIMARY KEY,
    kind             text NOT NULL,              -- import, compare, ...
    region_code      text NOT NULL REFERENCES region (code),
    user_id          bigint REFERENCES app_user (id) ON DELETE SET NULL,
    user_name        text NOT NULL DEFAULT '',
    title            text NOT NULL DEFAULT '',   -- what it works on, for people
    state            text NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
    done             bigint NOT NULL DEFAULT 0,
    total            bigint NOT NULL DEFAULT 0,  -- 0: not known
    unit             text NOT NULL DEFAULT '',
    message          text NOT NULL DEFAULT '',
    error            text NOT NULL DEFAULT '',   -- Chinese, shown to users
    result_id        bigint,                     -- batch id, run id ... by kind
    owner            text NOT NULL,              -- the process running it
    cancel_requested boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    heartbeat_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_active ON job (heartbeat_at) WHERE state IN ('queued', 'running');
CREATE INDEX job_region ON job (region_code text_pattern_ops, id DESC);
