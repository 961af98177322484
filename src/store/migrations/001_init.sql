-- numbatch schema, version 1. The invariants of the directory live here, so
-- that a bug in the code cannot store a number held twice or a user with two
-- primary numbers: the transaction fails instead.
--
-- Allowed values are spelled `x = 'a' OR x = 'b'` rather than `x IN (...)`:
-- SQLite evaluates an IN list of three or more through a temporary index,
-- built again for every row written (measured: a fifth of the apply cost).

CREATE TABLE users (
    upn           TEXT PRIMARY KEY CHECK (upn = lower(upn)),
    display_name  TEXT NOT NULL DEFAULT '',
    plan          TEXT NOT NULL CHECK (plan = 'connect' OR plan = 'advanced' OR plan = 'max'),
    voice_enabled INTEGER NOT NULL CHECK (voice_enabled = 0 OR voice_enabled = 1),
    removed_at    INTEGER
) WITHOUT ROWID;

CREATE TABLE numbers (
    e164        TEXT PRIMARY KEY CHECK (e164 GLOB '+[1-9]*' AND length(e164) BETWEEN 9 AND 16),
    number_type TEXT NOT NULL CHECK (number_type = 'subscriber' OR number_type = 'service'),
    state       TEXT NOT NULL CHECK (state = 'available' OR state = 'assigned' OR state = 'released'),
    holder      TEXT REFERENCES users (upn),
    role        TEXT CHECK (role = 'primary' OR role = 'additional'),
    -- who the number was last given to, and when (unix ms): the cool-down
    given_to    TEXT,
    given_at    INTEGER,
    CHECK ((state = 'assigned') = (holder IS NOT NULL)),
    CHECK ((holder IS NULL) = (role IS NULL)),
    CHECK (holder IS NULL OR number_type = 'subscriber')
) WITHOUT ROWID;

-- One holder per number is the primary key; one primary per user is this.
CREATE UNIQUE INDEX numbers_one_primary ON numbers (holder) WHERE role = 'primary';
CREATE INDEX numbers_by_holder ON numbers (holder);

-- A number can only be held by a user who is present and voice-enabled.
CREATE TRIGGER numbers_holder_licensed
BEFORE UPDATE OF holder ON numbers
WHEN NEW.holder IS NOT NULL
 AND NOT EXISTS (SELECT 1 FROM users
                 WHERE upn = NEW.holder AND removed_at IS NULL AND voice_enabled = 1)
BEGIN
    SELECT RAISE(ABORT, 'number holder must be a present, voice-enabled user');
END;

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    file         TEXT NOT NULL,
    stem         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind = 'assignments' OR kind = 'users' OR kind = 'numbers'),
    -- 'loading' while submit writes its rows: not yet a job anyone may run
    state        TEXT NOT NULL CHECK (state = 'loading' OR state = 'queued' OR state = 'running' OR state = 'done'),
    dry_run      INTEGER NOT NULL CHECK (dry_run = 0 OR dry_run = 1),
    options      TEXT NOT NULL,
    reports_dir  TEXT NOT NULL,
    origin       TEXT NOT NULL DEFAULT 'file' CHECK (origin = 'file' OR origin = 'retry' OR origin = 'undo'),
    parent       INTEGER REFERENCES jobs (id),
    rows         INTEGER NOT NULL DEFAULT 0,
    owner        TEXT,
    heartbeat_at INTEGER,
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER
);
CREATE INDEX jobs_by_sha ON jobs (sha256) WHERE dry_run = 0;
CREATE INDEX jobs_open ON jobs (state) WHERE state != 'done';

CREATE TABLE job_rows (
    job_id  INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    row     INTEGER NOT NULL,
    -- the row as the admin wrote it, in the template's columns (JSON array)
    raw     TEXT NOT NULL,
    -- the parsed row (JSON), NULL when a row-local check failed
    op      TEXT,
    -- what DUPLICATE_IN_FILE tracks: the number, or the user in a users file
    key     TEXT,
    action  TEXT,
    upn     TEXT,
    status  TEXT NOT NULL CHECK (status = 'pending' OR status = 'applied' OR status = 'unchanged' OR status = 'failed' OR status = 'would-apply'),
    code    TEXT,
    message TEXT,
    PRIMARY KEY (job_id, row),
    CHECK ((status = 'failed') = (code IS NOT NULL)),
    CHECK (status = 'failed' OR op IS NOT NULL)
) WITHOUT ROWID;
-- DUPLICATE_IN_FILE looks up the earlier rows of a job by key; rows that
-- failed a check at submission have no key, so they are skipped.
CREATE INDEX job_rows_by_key ON job_rows (job_id, key, row);

CREATE TABLE audit (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    job_id   INTEGER REFERENCES jobs (id),
    row      INTEGER,
    action   TEXT NOT NULL,
    -- the number changed, or NULL for a change to a user
    number   TEXT,
    -- the user concerned (the holder after the change, or the user changed)
    upn      TEXT,
    -- the holder before, when it was another user
    prev_upn TEXT,
    before   TEXT,
    after    TEXT
);
CREATE INDEX audit_by_number ON audit (number);
CREATE INDEX audit_by_upn ON audit (upn);
CREATE INDEX audit_by_prev_upn ON audit (prev_upn);
CREATE INDEX audit_by_job ON audit (job_id);
