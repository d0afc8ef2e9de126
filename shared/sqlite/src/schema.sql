-- Cassiopée's embedded store. Instants are INTEGER microseconds since the Unix epoch (UTC);
-- calendar days are ISO TEXT; money is INTEGER cents.
PRAGMA foreign_keys = ON;

CREATE TABLE IF NOT EXISTS staff (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    last_name   TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    function    TEXT NOT NULL,
    role        TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS officers (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    last_name   TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    grade       TEXT NOT NULL,
    branch      TEXT NOT NULL,
    phone       TEXT,
    acc_start   TEXT NOT NULL,
    acc_end     TEXT NOT NULL,
    advisor_id  TEXT REFERENCES staff(id)
);

CREATE TABLE IF NOT EXISTS trainings (
    id            TEXT PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    title         TEXT NOT NULL,
    theme         TEXT NOT NULL,
    modality      TEXT NOT NULL,
    length_days   INTEGER NOT NULL,
    provider      TEXT NOT NULL,
    session_cost  INTEGER NOT NULL,
    trainee_cost  INTEGER NOT NULL,
    min_group     INTEGER NOT NULL,
    max_group     INTEGER NOT NULL,
    archived      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS sessions (
    id                TEXT PRIMARY KEY,
    reference         TEXT NOT NULL UNIQUE,
    training_id       TEXT NOT NULL REFERENCES trainings(id),
    first_day         TEXT NOT NULL,
    last_day          TEXT NOT NULL,
    hours             TEXT NOT NULL,
    starts_at         INTEGER NOT NULL,
    ends_at           INTEGER NOT NULL,
    place             TEXT NOT NULL,
    capacity          INTEGER NOT NULL,
    closes_at         INTEGER NOT NULL,
    free_until        INTEGER NOT NULL,
    trainer           TEXT,
    status            TEXT NOT NULL,
    waitlist_mode     TEXT NOT NULL,
    offer_hours       INTEGER NOT NULL DEFAULT 0,
    seats_taken       INTEGER NOT NULL DEFAULT 0,
    waiting           INTEGER NOT NULL DEFAULT 0,
    last_rank         INTEGER NOT NULL DEFAULT 0,
    schedule_version  INTEGER NOT NULL DEFAULT 1,
    -- A backstop under the rules: whatever a bug does, the database refuses an overbooking.
    CHECK (seats_taken >= 0 AND seats_taken <= capacity AND waiting >= 0)
);
CREATE INDEX IF NOT EXISTS sessions_by_start ON sessions(starts_at);

CREATE TABLE IF NOT EXISTS enrolments (
    id                TEXT PRIMARY KEY,
    session_id        TEXT NOT NULL REFERENCES sessions(id),
    officer_id        TEXT NOT NULL REFERENCES officers(id),
    status            TEXT NOT NULL,
    late              INTEGER NOT NULL DEFAULT 0,
    rank              INTEGER NOT NULL,
    joined_at         INTEGER NOT NULL,
    confirmed_at      INTEGER,
    offer_expires_at  INTEGER,
    updated_at        INTEGER NOT NULL,
    updated_by        TEXT NOT NULL,
    origin            TEXT NOT NULL,
    changes           INTEGER NOT NULL DEFAULT 0,
    UNIQUE (session_id, officer_id)
);
CREATE INDEX IF NOT EXISTS enrolments_by_officer ON enrolments(officer_id);
CREATE INDEX IF NOT EXISTS enrolments_waiting ON enrolments(session_id, status, rank, id);
CREATE INDEX IF NOT EXISTS enrolments_offers ON enrolments(status, offer_expires_at);

CREATE TABLE IF NOT EXISTS enrolment_changes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    enrolment_id   TEXT NOT NULL REFERENCES enrolments(id),
    at             INTEGER NOT NULL,
    from_status    TEXT,
    to_status      TEXT NOT NULL,
    actor          TEXT NOT NULL,
    origin         TEXT NOT NULL,
    reason         TEXT
);
CREATE INDEX IF NOT EXISTS enrolment_changes_by_enrolment ON enrolment_changes(enrolment_id);

CREATE TABLE IF NOT EXISTS programme (
    officer_id   TEXT NOT NULL REFERENCES officers(id),
    training_id  TEXT NOT NULL REFERENCES trainings(id),
    kind         TEXT NOT NULL,
    planned_by   TEXT NOT NULL,
    planned_at   INTEGER NOT NULL,
    PRIMARY KEY (officer_id, training_id)
);

CREATE TABLE IF NOT EXISTS interests (
    officer_id   TEXT NOT NULL REFERENCES officers(id),
    training_id  TEXT NOT NULL REFERENCES trainings(id),
    at           INTEGER NOT NULL,
    PRIMARY KEY (officer_id, training_id)
);

-- The transactional outbox: a notice is written with the change it announces.
CREATE TABLE IF NOT EXISTS outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    officer_id  TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    kind_key    TEXT NOT NULL,
    payload     TEXT NOT NULL,
    version     INTEGER NOT NULL,
    queued_at   INTEGER NOT NULL,
    sent_at     INTEGER,
    status      TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    UNIQUE (officer_id, session_id, kind_key, version)
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(status, id);
CREATE INDEX IF NOT EXISTS outbox_by_officer ON outbox(officer_id);

CREATE TABLE IF NOT EXISTS idempotency (
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    response    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE IF NOT EXISTS statistics (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    snapshot  TEXT NOT NULL
);
