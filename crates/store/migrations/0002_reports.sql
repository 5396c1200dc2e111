-- Citizen field reports and the shared following of work (deadlines, escalation, timeline),
-- the working calendar, Open311 clients and the notification outbox.

CREATE TABLE calendar_days (
    date TEXT PRIMARY KEY,                 -- YYYY-MM-DD, in the province's zone
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL
);

CREATE TABLE report_categories (
    id                INTEGER PRIMARY KEY,
    code              TEXT NOT NULL UNIQUE,
    parent_id         INTEGER REFERENCES report_categories(id),
    name_vi           TEXT NOT NULL,
    name_en           TEXT NOT NULL,
    description_vi    TEXT NOT NULL DEFAULT '',
    description_en    TEXT NOT NULL DEFAULT '',
    -- JSON haidang_reports::HandlingRule / CategoryDeadlines / [AttributeDef]
    rule              TEXT NOT NULL,
    deadlines         TEXT NOT NULL,
    attributes        TEXT NOT NULL DEFAULT '[]',
    field             TEXT REFERENCES fields(code),
    urgent_by_default INTEGER NOT NULL DEFAULT 0,
    keywords          TEXT NOT NULL DEFAULT '',
    active            INTEGER NOT NULL DEFAULT 1,
    sort_order        INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

-- One followed piece of work (a report today; alerts, directives and tasks later): who must
-- act, by when, how far it has escalated. `next_check_at` is when the follower must look at it
-- again (a warning, deadline, reminder or escalation falls due); NULL when nothing can.
CREATE TABLE work_items (
    id                        INTEGER PRIMARY KEY,
    subject                   TEXT NOT NULL,
    owner_unit_id             INTEGER NOT NULL REFERENCES org_units(id),
    handler_unit_id           INTEGER REFERENCES org_units(id),
    handler_user_id           INTEGER REFERENCES users(id),
    open                      INTEGER NOT NULL DEFAULT 1,
    assigned_at               TEXT,
    accepted_at               TEXT,
    finished_at               TEXT,
    clocking                  TEXT CHECK (clocking IN ('working', 'wall')),
    due_at                    TEXT,
    warn_at                   TEXT,
    warned_at                 TEXT,
    overdue_at                TEXT,
    level                     INTEGER NOT NULL DEFAULT 0,
    accept_within_minutes     INTEGER,
    not_accepted_escalated_at TEXT,
    last_reminder_at          TEXT,
    next_check_at             TEXT
);
CREATE INDEX work_items_handler ON work_items (handler_unit_id, open, due_at);
CREATE INDEX work_items_owner ON work_items (owner_unit_id);
CREATE INDEX work_items_check ON work_items (next_check_at) WHERE next_check_at IS NOT NULL;

CREATE TABLE work_coordinators (
    work_id INTEGER NOT NULL REFERENCES work_items(id) ON DELETE CASCADE,
    unit_id INTEGER NOT NULL REFERENCES org_units(id),
    PRIMARY KEY (work_id, unit_id)
);
CREATE INDEX work_coordinators_unit ON work_coordinators (unit_id, work_id);

-- The timeline: every step, note, warning and escalation, and every view of contact details.
CREATE TABLE work_events (
    id          INTEGER PRIMARY KEY,
    work_id     INTEGER NOT NULL REFERENCES work_items(id),
    at          TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    INTEGER,
    actor_name  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    note        TEXT,
    public      INTEGER NOT NULL DEFAULT 0,
    unit_id     INTEGER REFERENCES org_units(id),
    data        TEXT
);
CREATE INDEX work_events_item ON work_events (work_id, id);

CREATE TABLE open311_clients (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    unit_id      INTEGER REFERENCES org_units(id),
    active       INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);

CREATE TABLE reports (
    id                 INTEGER PRIMARY KEY,
    code               TEXT NOT NULL UNIQUE,
    work_id            INTEGER NOT NULL UNIQUE REFERENCES work_items(id),
    category_id        INTEGER NOT NULL REFERENCES report_categories(id),
    status             TEXT NOT NULL,
    urgent             INTEGER NOT NULL DEFAULT 0,
    channel            TEXT NOT NULL,
    open311_client_id  INTEGER REFERENCES open311_clients(id),
    open311_token      TEXT UNIQUE,
    title              TEXT NOT NULL,
    description        TEXT NOT NULL,
    -- what the public sees: personal data masked, edited by the IOC at verification
    public_description TEXT NOT NULL,
    -- folded code, title, description and address, for diacritic-insensitive search
    search_fold        TEXT NOT NULL,
    -- folded public description: the public portal searches only what it shows
    public_fold        TEXT NOT NULL,
    lat                REAL NOT NULL,
    lon                REAL NOT NULL,
    address            TEXT,
    commune_id         INTEGER REFERENCES org_units(id),
    attributes         TEXT NOT NULL DEFAULT '{}',
    contact_name       TEXT,
    contact_phone      TEXT,
    contact_email      TEXT,
    confidential       INTEGER NOT NULL DEFAULT 0,
    consent_at         TEXT,
    contact_erased_at  TEXT,
    result             TEXT,
    public_result      TEXT,
    satisfied          INTEGER,
    rating_comment     TEXT,
    rated_at           TEXT,
    merged_into        INTEGER REFERENCES reports(id),
    -- the handling deadline of the current round, kept for statistics after the work closes
    handling_due_at    TEXT,
    -- assignment to result, in seconds, for the mean handling time
    handling_seconds   INTEGER,
    received_at        TEXT NOT NULL,
    verified_at        TEXT,
    assigned_at        TEXT,
    resolved_at        TEXT,
    published_at       TEXT,
    closed_at          TEXT,
    updated_at         TEXT NOT NULL
);
CREATE INDEX reports_received ON reports (received_at, id);
CREATE INDEX reports_commune ON reports (commune_id, received_at);
CREATE INDEX reports_category ON reports (category_id, received_at);
CREATE INDEX reports_status ON reports (status, received_at);
CREATE INDEX reports_public ON reports (published_at, id) WHERE published_at IS NOT NULL;
CREATE INDEX reports_place ON reports (lat, lon);
CREATE INDEX reports_contact_email ON reports (contact_email) WHERE contact_email IS NOT NULL;
CREATE INDEX reports_contact_phone ON reports (contact_phone) WHERE contact_phone IS NOT NULL;
CREATE INDEX reports_erasable ON reports (closed_at) WHERE contact_erased_at IS NULL;

CREATE TABLE report_attachments (
    id           INTEGER PRIMARY KEY,
    report_id    INTEGER NOT NULL REFERENCES reports(id),
    sha256       TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('image', 'video')),
    content_type TEXT NOT NULL,
    bytes        INTEGER NOT NULL,
    width        INTEGER,
    height       INTEGER,
    has_thumb    INTEGER NOT NULL DEFAULT 0,
    purpose      TEXT NOT NULL CHECK (purpose IN ('report', 'result')),
    published    INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL
);
CREATE INDEX report_attachments_report ON report_attachments (report_id, id);
CREATE INDEX report_attachments_sha ON report_attachments (sha256);

-- Messages to citizens and staff, written in the same transaction as the change they tell
-- of, and sent afterwards with retries, so a change is never told twice or lost.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    address_kind    TEXT NOT NULL CHECK (address_kind IN ('email', 'phone')),
    address         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    reference       TEXT,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_reference ON notifications (reference);
