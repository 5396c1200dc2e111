-- Context data (NGSI-LD): entities with their latest state, every attribute change, hourly
-- aggregates for down-sampled history, subscriptions with a notification outbox, and the
-- registry of devices and connectors that feed them.
--
-- Names (entity types, attribute IRIs) are interned in ctx_names so that the history rows
-- (tens of millions) carry small integers, not IRIs. Times in these tables are integer
-- milliseconds since the Unix epoch (UTC): history is range-scanned and aggregated by time.

CREATE TABLE ctx_tenants (
    name       TEXT PRIMARY KEY,   -- '' is the default tenant (the province)
    created_at TEXT NOT NULL
);
INSERT INTO ctx_tenants (name, created_at) VALUES ('', strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000Z');

CREATE TABLE ctx_names (
    id  INTEGER PRIMARY KEY,
    iri TEXT NOT NULL UNIQUE
);

CREATE TABLE ctx_entities (
    pk          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: history rows point here
    tenant      TEXT NOT NULL REFERENCES ctx_tenants(name),
    id          TEXT NOT NULL,
    owner_unit  INTEGER REFERENCES org_units(id),
    doc         TEXT NOT NULL,     -- haidang_ngsi::Entity::to_stored()
    created_at  INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    UNIQUE (tenant, id)
);
CREATE INDEX ctx_entities_owner ON ctx_entities(owner_unit);

-- Every type of every entity (an entity may have several), and every attribute it has: the
-- query planner's way into ctx_entities by type or attribute, and type/attribute discovery.
CREATE TABLE ctx_entity_types (
    type   INTEGER NOT NULL REFERENCES ctx_names(id),
    entity INTEGER NOT NULL REFERENCES ctx_entities(pk) ON DELETE CASCADE,
    PRIMARY KEY (type, entity)
) WITHOUT ROWID;
CREATE INDEX ctx_entity_types_entity ON ctx_entity_types(entity);

CREATE TABLE ctx_entity_attrs (
    attr   INTEGER NOT NULL REFERENCES ctx_names(id),
    entity INTEGER NOT NULL REFERENCES ctx_entities(pk) ON DELETE CASCADE,
    PRIMARY KEY (attr, entity)
) WITHOUT ROWID;
CREATE INDEX ctx_entity_attrs_entity ON ctx_entity_attrs(entity);

-- Bounding boxes of the `location` GeoProperty, for geo-queries (checked exactly afterwards).
CREATE VIRTUAL TABLE ctx_entity_geo USING rtree(pk, min_lon, max_lon, min_lat, max_lat);

-- Every attribute instance ever written. `value` holds a plain value (number, string, bool as
-- 0/1 is NOT used: JSON text for anything but numbers and strings is in `doc`); `doc` holds the
-- rest of the instance (kind, unitCode, sub-attributes…) when there is more than a value.
CREATE TABLE ctx_history (
    entity      INTEGER NOT NULL,   -- ctx_entities.pk (deleted with the entity)
    attr        INTEGER NOT NULL,   -- ctx_names.id
    dataset     TEXT NOT NULL,      -- '' for the default instance
    observed_at INTEGER NOT NULL,   -- observedAt, or the time of the change
    seq         INTEGER NOT NULL,   -- instance number, unique, increasing with each write
    modified_at INTEGER NOT NULL,
    value,
    doc         TEXT,
    PRIMARY KEY (entity, attr, dataset, observed_at, seq)
) WITHOUT ROWID;

-- Down-sampled history: one row per attribute and hour once raw rows pass their retention.
CREATE TABLE ctx_history_hourly (
    entity  INTEGER NOT NULL,
    attr    INTEGER NOT NULL,
    dataset TEXT NOT NULL,
    hour    INTEGER NOT NULL,       -- start of the hour, ms
    n       INTEGER NOT NULL,
    sum     REAL NOT NULL,
    min     REAL NOT NULL,
    max     REAL NOT NULL,
    last    REAL NOT NULL,
    PRIMARY KEY (entity, attr, dataset, hour)
) WITHOUT ROWID;

-- Per entity type: open to everyone (read without a token) and how long history is kept.
CREATE TABLE ctx_type_policies (
    tenant      TEXT NOT NULL,
    type        TEXT NOT NULL,      -- expanded IRI
    open        INTEGER NOT NULL DEFAULT 0,
    raw_days    INTEGER,            -- NULL: keep raw history for ever
    hourly_days INTEGER,            -- NULL: keep hourly aggregates for ever
    PRIMARY KEY (tenant, type)
);

CREATE TABLE ctx_subscriptions (
    pk                INTEGER PRIMARY KEY,
    tenant            TEXT NOT NULL REFERENCES ctx_tenants(name),
    id                TEXT NOT NULL,
    owner_unit        INTEGER REFERENCES org_units(id),
    doc               TEXT NOT NULL,   -- the subscription, names expanded
    context           TEXT NOT NULL,   -- the @context to render notifications with (JSON)
    times_sent        INTEGER NOT NULL DEFAULT 0,
    times_failed      INTEGER NOT NULL DEFAULT 0,
    last_notification TEXT,
    last_success      TEXT,
    last_failure      TEXT,
    created_at        TEXT NOT NULL,
    modified_at       TEXT NOT NULL,
    UNIQUE (tenant, id)
);

-- Notifications waiting to be delivered: written in the same transaction as the change that
-- caused them, so a crash or restart loses none; retried with back-off until delivered or
-- the subscription goes away.
CREATE TABLE ctx_notifications (
    pk           INTEGER PRIMARY KEY,
    subscription INTEGER NOT NULL REFERENCES ctx_subscriptions(pk) ON DELETE CASCADE,
    entities     TEXT NOT NULL,     -- JSON array of stored entities as they were
    created_at   TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT NOT NULL,
    last_error   TEXT
);
CREATE INDEX ctx_notifications_due ON ctx_notifications(next_attempt);

-- Devices: one key each (stored hashed), the entity they feed and how their measures map onto
-- its attributes.
CREATE TABLE devices (
    pk            INTEGER PRIMARY KEY,
    tenant        TEXT NOT NULL REFERENCES ctx_tenants(name),
    id            TEXT NOT NULL UNIQUE,  -- also the MQTT user name
    name          TEXT NOT NULL,
    model         TEXT NOT NULL DEFAULT '',
    owner_unit    INTEGER NOT NULL REFERENCES org_units(id),
    entity_id     TEXT NOT NULL,
    entity_type   TEXT NOT NULL,         -- expanded IRI
    key_hash      TEXT NOT NULL,
    mapping       TEXT NOT NULL,         -- JSON: measure name -> attribute, unit, dataset
    silence_secs  INTEGER NOT NULL,      -- silent longer than this: reported
    enabled       INTEGER NOT NULL DEFAULT 1,
    demo          INTEGER NOT NULL DEFAULT 0,
    last_seen     TEXT,
    last_error    TEXT,
    last_error_at TEXT,
    messages      INTEGER NOT NULL DEFAULT 0,
    rejected      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);
CREATE INDEX devices_owner ON devices(owner_unit);

-- Connectors: scheduled HTTP pulls and file imports, with their health.
CREATE TABLE connectors (
    pk          INTEGER PRIMARY KEY,
    tenant      TEXT NOT NULL REFERENCES ctx_tenants(name),
    id          TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,         -- 'pull' | 'import'
    name        TEXT NOT NULL,
    owner_unit  INTEGER NOT NULL REFERENCES org_units(id),
    config      TEXT NOT NULL,         -- JSON
    enabled     INTEGER NOT NULL DEFAULT 1,
    last_run    TEXT,
    last_ok     TEXT,
    last_error  TEXT,
    runs        INTEGER NOT NULL DEFAULT 0,
    failures    INTEGER NOT NULL DEFAULT 0,
    items       INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);

-- API tokens may be limited to some entity types (expanded IRIs, JSON array; NULL = all).
ALTER TABLE api_tokens ADD COLUMN entity_types TEXT;
