-- One row per scheduled job run (job name, due time in Unix seconds): the
-- collector that inserts it runs the job; every other one sharing the
-- database finds the row and skips, so a job runs once per due time.
CREATE TABLE scheduled_runs (
    job text NOT NULL,
    due_s int8 NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job, due_s)
);
