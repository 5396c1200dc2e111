-- Platform core: org tree, accounts, grants, sessions, tokens, duty roster, audit log.
-- Portable SQL only (SQLite now, PostgreSQL later): times are stored as fixed-width UTC text
-- 'YYYY-MM-DDTHH:MM:SS.ffffffZ' so that text order is time order in both engines.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE org_units (
    id            INTEGER PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    short_name    TEXT,
    unit_type     TEXT NOT NULL,
    parent_id     INTEGER REFERENCES org_units(id),
    -- '/1/17/42/': ids from the root, for subtree queries by prefix
    path          TEXT NOT NULL,
    name_fold     TEXT NOT NULL,
    name_sort     TEXT NOT NULL,
    lat           REAL,
    lon           REAL,
    area_km2      REAL,
    -- GeoJSON geometry (MultiPolygon, WGS84)
    boundary      TEXT,
    boundary_kind TEXT NOT NULL DEFAULT 'none' CHECK (boundary_kind IN ('none', 'approximate', 'official')),
    demo_code     INTEGER NOT NULL DEFAULT 0,
    phone         TEXT,
    email         TEXT,
    address       TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX org_units_parent ON org_units (parent_id, name_sort, id);
CREATE INDEX org_units_path ON org_units (path);
CREATE INDEX org_units_sort ON org_units (name_sort, id);

CREATE TABLE fields (
    code    TEXT PRIMARY KEY,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    name_fold            TEXT NOT NULL,
    name_sort            TEXT NOT NULL,
    email                TEXT,
    phone                TEXT,
    home_unit_id         INTEGER NOT NULL REFERENCES org_units(id),
    password_hash        TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    active               INTEGER NOT NULL DEFAULT 1,
    failed_logins        INTEGER NOT NULL DEFAULT 0,
    locked_until         TEXT,
    totp_secret          TEXT,
    totp_enabled         INTEGER NOT NULL DEFAULT 0,
    locale               TEXT NOT NULL DEFAULT 'vi',
    last_login_at        TEXT,
    password_changed_at  TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX users_home_unit ON users (home_unit_id);
CREATE INDEX users_sort ON users (name_sort, id);

CREATE TABLE grants (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    unit_id    INTEGER NOT NULL REFERENCES org_units(id),
    -- comma-separated field codes; empty = every field
    fields     TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    UNIQUE (user_id, role, unit_id)
);
CREATE INDEX grants_unit ON grants (unit_id, role);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    unit_id      INTEGER NOT NULL REFERENCES org_units(id),
    permissions  TEXT NOT NULL,
    created_by   INTEGER REFERENCES users(id),
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT
);

CREATE TABLE duty_shifts (
    id            INTEGER PRIMARY KEY,
    unit_id       INTEGER NOT NULL REFERENCES org_units(id),
    user_id       INTEGER NOT NULL REFERENCES users(id),
    starts_at     TEXT NOT NULL,
    ends_at       TEXT NOT NULL,
    handover_note TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX duty_shifts_time ON duty_shifts (starts_at, ends_at);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    INTEGER,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT,
    unit_id     INTEGER,
    summary     TEXT NOT NULL,
    ip          TEXT,
    user_agent  TEXT,
    request_id  TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action);

-- The audit log is append-only: the store refuses to change or remove an entry.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
