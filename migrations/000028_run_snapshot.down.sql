DROP TABLE run_snapshot;
