//! The one writer of context data, committing in groups.
//!
//! Callers send a job (a request's operations) and wait for its answer. The writer takes the
//! first waiting job and every other job already queued, up to a limit, applies them all in
//! one transaction — entity rows, side tables, history, notifications to send — commits once
//! (`synchronous=FULL`), and only then answers each job. Throughput therefore grows with load:
//! while one commit is flushing, the next group is forming.
//!
//! The writer is the only code that changes `ctx_entities`, so it keeps a cache of entities it
//! has written and need not read them back; the cache is updated only after a commit succeeds.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use haidang_core::{Clock, OrgUnitId};
use haidang_ngsi::entity::{UpdateResult, names};
use haidang_ngsi::{AttrKind, Attribute, Entity, ErrorKind, NgsiError};
use serde_json::Value;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::millis;
use crate::{Store, StoreError};

/// Who is writing: the unit that owns what it creates when the entity has no place, the units
/// it may write under (`None`: the whole province) and the entity types it may write (`None`:
/// all).
#[derive(Debug, Clone)]
pub struct WriteAccess {
    pub unit: OrgUnitId,
    pub scope: Option<Vec<OrgUnitId>>,
    pub types: Option<Vec<String>>,
}

/// The platform's rules about owners, supplied by the layer that knows places and the org
/// tree.
pub trait WritePolicy: Send + Sync + 'static {
    /// The unit owning `entity` when `access` writes it: the commune its location falls in,
    /// otherwise the writer's unit.
    fn owner(&self, entity: &Entity, access: &WriteAccess) -> OrgUnitId;
    /// Whether `access` may change an entity of `owner`.
    fn may_write(&self, access: &WriteAccess, owner: OrgUnitId, entity: &Entity) -> bool;
}

/// The write operations of the NGSI-LD API, applied to one entity each.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// Create Entity: `AlreadyExists` if the id is taken.
    Create {
        entity: Entity,
    },
    /// Batch upsert: creates, or replaces (`replace`) / updates the existing entity.
    Upsert {
        entity: Entity,
        replace: bool,
    },
    Append {
        id: String,
        fragment: Entity,
        no_overwrite: bool,
    },
    Update {
        id: String,
        fragment: Entity,
    },
    Merge {
        id: String,
        fragment: Entity,
    },
    PatchAttribute {
        id: String,
        name: String,
        attr: Attribute,
    },
    ReplaceAttribute {
        id: String,
        name: String,
        attr: Attribute,
    },
    Replace {
        entity: Entity,
    },
    DeleteAttribute {
        id: String,
        name: String,
        dataset_id: Option<String>,
        delete_all: bool,
    },
    Delete {
        id: String,
    },
}

impl WriteOp {
    /// Whether applying this may change the entity's `location`, hence its owner.
    fn may_move(&self) -> bool {
        match self {
            Self::Create { .. } | Self::Upsert { .. } | Self::Replace { .. } => true,
            Self::Append { fragment, .. } | Self::Update { fragment, .. } | Self::Merge { fragment, .. } => {
                fragment.attrs.contains_key(names::LOCATION)
            }
            Self::PatchAttribute { name, .. }
            | Self::ReplaceAttribute { name, .. }
            | Self::DeleteAttribute { name, .. } => name == names::LOCATION,
            Self::Delete { .. } => false,
        }
    }

    fn entity_id(&self) -> &str {
        match self {
            Self::Create { entity } | Self::Upsert { entity, .. } | Self::Replace { entity } => &entity.id,
            Self::Append { id, .. }
            | Self::Update { id, .. }
            | Self::Merge { id, .. }
            | Self::PatchAttribute { id, .. }
            | Self::ReplaceAttribute { id, .. }
            | Self::DeleteAttribute { id, .. }
            | Self::Delete { id } => id,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum OpOutcome {
    Created,
    Updated(UpdateResult),
    Replaced,
    Deleted,
}

pub type OpResult = Result<OpOutcome, NgsiError>;

#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Operations per transaction at most (a group stops growing past this).
    pub max_ops_per_commit: usize,
    /// Entities kept in the writer's cache.
    pub cache_entities: usize,
    /// Jobs waiting at most; senders wait beyond this (back-pressure).
    pub queue: usize,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self { max_ops_per_commit: 20_000, cache_entities: 200_000, queue: 4_096 }
    }
}

enum Msg {
    Job(Job),
    Stop(oneshot::Sender<()>),
}

struct Job {
    tenant: String,
    access: Arc<WriteAccess>,
    policy: Arc<dyn WritePolicy>,
    ops: Vec<WriteOp>,
    reply: oneshot::Sender<Result<Vec<OpResult>, Arc<StoreError>>>,
}

/// A handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct ContextWriter {
    tx: mpsc::Sender<Msg>,
}

impl ContextWriter {
    /// Starts the writer task over `store`.
    pub(crate) async fn start(store: Store, config: WriterConfig) -> Result<Self, StoreError> {
        let mut conn = store.writer.acquire().await?;
        let names = sqlx::query_as::<_, (String, i64)>("SELECT iri, id FROM ctx_names")
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
        let next_seq: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM ctx_history").fetch_one(&mut *conn).await?;
        drop(conn);
        let (tx, rx) = mpsc::channel(config.queue);
        let task = WriterTask {
            clock: store.clock.clone(),
            store,
            config,
            names,
            next_seq,
            cache: HashMap::new(),
            tenants: BTreeSet::from([String::new()]),
        };
        tokio::spawn(task.run(rx));
        Ok(Self { tx })
    }

    /// Applies `ops` (in order) for `access` in `tenant`; answers after they are durable.
    /// An operation that is refused (not found, exists, not allowed) has its own error; the
    /// others still apply. `Err` only when the store itself failed: then nothing applied.
    pub async fn write(
        &self,
        tenant: &str,
        access: Arc<WriteAccess>,
        policy: Arc<dyn WritePolicy>,
        ops: Vec<WriteOp>,
    ) -> Result<Vec<OpResult>, Arc<StoreError>> {
        let (reply, answer) = oneshot::channel();
        let job = Job { tenant: tenant.to_owned(), access, policy, ops, reply };
        let closed = || Arc::new(StoreError::Corrupt("the context writer has stopped".into()));
        self.tx.send(Msg::Job(job)).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    /// Finishes every job sent before this call, then stops the task.
    pub async fn stop(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Stop(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

struct Cached {
    pk: i64,
    owner: Option<OrgUnitId>,
    entity: Entity,
}

struct WriterTask {
    store: Store,
    clock: Arc<dyn Clock>,
    config: WriterConfig,
    names: HashMap<String, i64>,
    next_seq: i64,
    cache: HashMap<(String, String), Cached>,
    tenants: BTreeSet<String>,
}

/// The working state of one entity within a group.
struct Slot {
    tenant: String,
    id: String,
    pk: Option<i64>,
    owner: Option<OrgUnitId>,
    before: Option<Entity>,
    current: Option<Entity>,
    changed: BTreeSet<String>,
    dirty: bool,
}

struct HistoryInsert {
    slot: usize,
    attr: String,
    instance: Attribute,
}

impl WriterTask {
    async fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        while let Some(msg) = rx.recv().await {
            let mut jobs = Vec::new();
            let mut stop = None;
            match msg {
                Msg::Job(job) => jobs.push(job),
                Msg::Stop(done) => stop = Some(done),
            }
            let mut ops: usize = jobs.iter().map(|j| j.ops.len()).sum();
            while stop.is_none() && ops < self.config.max_ops_per_commit {
                match rx.try_recv() {
                    Ok(Msg::Job(job)) => {
                        ops += job.ops.len();
                        jobs.push(job);
                    }
                    Ok(Msg::Stop(done)) => stop = Some(done),
                    Err(_) => break,
                }
            }
            if !jobs.is_empty() {
                self.commit_group(jobs).await;
            }
            if let Some(done) = stop {
                rx.close();
                let _ = done.send(());
                break;
            }
        }
    }

    async fn commit_group(&mut self, mut jobs: Vec<Job>) {
        let now = self.clock.now();
        match self.apply_group(&mut jobs, now).await {
            Ok((results, slots)) => {
                for slot in slots.iter().filter(|s| s.dirty) {
                    let key = (slot.tenant.clone(), slot.id.clone());
                    match (&slot.current, slot.pk) {
                        (Some(entity), Some(pk)) => {
                            if self.cache.len() >= self.config.cache_entities {
                                self.evict();
                            }
                            self.cache.insert(key, Cached { pk, owner: slot.owner, entity: entity.clone() });
                        }
                        _ => {
                            self.cache.remove(&key);
                        }
                    }
                }
                for (job, result) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "context write group failed; nothing of it applied");
                // Names interned in the failed transaction are gone again.
                self.names.clear();
                self.cache.clear();
                if let Ok(mut conn) = self.store.writer.acquire().await
                    && let Ok(rows) =
                        sqlx::query_as::<_, (String, i64)>("SELECT iri, id FROM ctx_names").fetch_all(&mut *conn).await
                {
                    self.names = rows.into_iter().collect();
                }
                let e = Arc::new(e);
                for job in jobs {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }

    /// Drops about a tenth of the cache; which entries does not matter much (the next write of
    /// an evicted entity reads it back).
    fn evict(&mut self) {
        let n = (self.cache.len() / 10).max(1);
        let keys: Vec<_> = self.cache.keys().take(n).cloned().collect();
        for k in keys {
            self.cache.remove(&k);
        }
    }

    async fn apply_group(
        &mut self,
        jobs: &mut [Job],
        now: DateTime<Utc>,
    ) -> Result<(Vec<Vec<OpResult>>, Vec<Slot>), StoreError> {
        let mut conn = self.store.writer.acquire().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let outcome = self.apply_in_transaction(&mut conn, jobs, now).await;
        match outcome {
            Ok(v) => {
                sqlx::query("COMMIT").execute(&mut *conn).await?;
                Ok(v)
            }
            Err(e) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                Err(e)
            }
        }
    }

    /// Takes the jobs' operations (a failed group answers with the store's error, not per
    /// operation).
    async fn apply_in_transaction(
        &mut self,
        conn: &mut SqliteConnection,
        jobs: &mut [Job],
        now: DateTime<Utc>,
    ) -> Result<(Vec<Vec<OpResult>>, Vec<Slot>), StoreError> {
        let mut slots: Vec<Slot> = Vec::new();
        let mut index: HashMap<(String, String), usize> = HashMap::new();
        let mut history: Vec<HistoryInsert> = Vec::new();
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs {
            if !self.tenants.contains(&job.tenant) {
                sqlx::query("INSERT INTO ctx_tenants (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(&job.tenant)
                    .bind(crate::time::ts(now))
                    .execute(&mut *conn)
                    .await?;
                self.tenants.insert(job.tenant.clone());
            }
            let mut job_results = Vec::with_capacity(job.ops.len());
            for op in std::mem::take(&mut job.ops) {
                let key = (job.tenant.clone(), op.entity_id().to_owned());
                let slot = match index.get(&key) {
                    Some(&i) => i,
                    None => {
                        let loaded = self.load(conn, &key.0, &key.1).await?;
                        slots.push(loaded);
                        index.insert(key, slots.len() - 1);
                        slots.len() - 1
                    }
                };
                let result = Self::apply_op(&mut slots[slot], slot, &job.access, &*job.policy, op, now, &mut history);
                job_results.push(result);
            }
            results.push(job_results);
        }
        self.write_slots(conn, &mut slots, now).await?;
        self.write_history(conn, &slots, &history).await?;
        Ok((results, slots))
    }

    async fn load(&self, conn: &mut SqliteConnection, tenant: &str, id: &str) -> Result<Slot, StoreError> {
        let key = (tenant.to_owned(), id.to_owned());
        let (pk, owner, entity) = match self.cache.get(&key) {
            Some(c) => (Some(c.pk), c.owner, Some(c.entity.clone())),
            None => {
                let row: Option<(i64, Option<i64>, String)> =
                    sqlx::query_as("SELECT pk, owner_unit, doc FROM ctx_entities WHERE tenant = $1 AND id = $2")
                        .bind(tenant)
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await?;
                match row {
                    Some((pk, owner, doc)) => (Some(pk), owner.map(OrgUnitId), Some(parse_stored(&doc)?)),
                    None => (None, None, None),
                }
            }
        };
        Ok(Slot {
            tenant: key.0,
            id: key.1,
            pk,
            owner,
            before: entity.clone(),
            current: entity,
            changed: BTreeSet::new(),
            dirty: false,
        })
    }

    fn apply_op(
        slot: &mut Slot,
        slot_index: usize,
        access: &WriteAccess,
        policy: &dyn WritePolicy,
        op: WriteOp,
        now: DateTime<Utc>,
        history: &mut Vec<HistoryInsert>,
    ) -> OpResult {
        if let Some(current) = &slot.current {
            let owner = slot.owner.unwrap_or(access.unit);
            if !policy.may_write(access, owner, current) {
                // Outside the writer's scope the entity does not exist for it.
                return Err(NgsiError::not_found(format!("no entity {} in your scope", slot.id)));
            }
        }
        // Only a write that may move the entity (or creates it) can change its owner; keep what
        // to restore if the new place is outside the writer's scope.
        let snapshot = (slot.current.is_none() || op.may_move()).then(|| slot.current.clone());
        let (outcome, written): (OpOutcome, Vec<String>) = match op {
            WriteOp::Create { mut entity } => {
                if slot.current.is_some() {
                    return Err(NgsiError::new(
                        ErrorKind::AlreadyExists,
                        format!("entity {} already exists", entity.id),
                    ));
                }
                stamp_new(&mut entity, now);
                check_new(access, &entity)?;
                let written = entity.attrs.keys().cloned().collect();
                slot.current = Some(entity);
                (OpOutcome::Created, written)
            }
            WriteOp::Upsert { mut entity, replace } => match slot.current.as_mut() {
                None => {
                    stamp_new(&mut entity, now);
                    check_new(access, &entity)?;
                    let written = entity.attrs.keys().cloned().collect();
                    slot.current = Some(entity);
                    (OpOutcome::Created, written)
                }
                Some(current) if replace => {
                    let written = entity.attrs.keys().cloned().collect();
                    current.replace(entity, now);
                    (OpOutcome::Replaced, written)
                }
                Some(current) => {
                    let result = current.append(entity, false, now);
                    let written = result.updated.clone();
                    (OpOutcome::Updated(result), written)
                }
            },
            WriteOp::Replace { entity } => {
                let current = slot.current.as_mut().ok_or_else(|| missing(&slot.id))?;
                let written = entity.attrs.keys().cloned().collect();
                current.replace(entity, now);
                (OpOutcome::Replaced, written)
            }
            WriteOp::Append { fragment, no_overwrite, .. } => {
                let current = slot.current.as_mut().ok_or_else(|| missing(&slot.id))?;
                let result = current.append(fragment, no_overwrite, now);
                let written = result.updated.clone();
                (OpOutcome::Updated(result), written)
            }
            WriteOp::Update { fragment, .. } => {
                let current = slot.current.as_mut().ok_or_else(|| missing(&slot.id))?;
                let result = current.update(fragment, now);
                let written = result.updated.clone();
                (OpOutcome::Updated(result), written)
            }
            WriteOp::Merge { fragment, .. } => {
                let current = slot.current.as_mut().ok_or_else(|| missing(&slot.id))?;
                let result = current.merge(fragment, now);
                let written = result.updated.clone();
                (OpOutcome::Updated(result), written)
            }
            WriteOp::PatchAttribute { name, attr, .. } => {
                let current = slot.current.as_mut().ok_or_else(|| missing(&slot.id))?;
                current.patch_attribute(&name, attr, now)?;
                (OpOutcome::Updated(UpdateResult { updated: vec![name.clone()], ..Default::default() }), vec![name])
            }
            WriteOp::ReplaceAttribute { name, attr, .. } => {
                let current = slot.current.as_mut().ok_or_else(|| missing(&slot.id))?;
                current.replace_attribute(&name, attr, now)?;
                (OpOutcome::Updated(UpdateResult { updated: vec![name.clone()], ..Default::default() }), vec![name])
            }
            WriteOp::DeleteAttribute { name, dataset_id, delete_all, .. } => {
                let current = slot.current.as_mut().ok_or_else(|| missing(&slot.id))?;
                current.delete_attribute(&name, dataset_id.as_deref(), delete_all, now)?;
                (OpOutcome::Deleted, vec![name])
            }
            WriteOp::Delete { .. } => {
                let current = slot.current.take().ok_or_else(|| missing(&slot.id))?;
                slot.changed.extend(current.attrs.keys().cloned());
                slot.dirty = true;
                return Ok(OpOutcome::Deleted);
            }
        };
        let current = slot.current.as_ref().expect("every arm above leaves an entity");
        if let Some(previous) = snapshot {
            let owner = policy.owner(current, access);
            if !policy.may_write(access, owner, current) {
                slot.current = previous;
                return Err(forbidden(&slot.id));
            }
            slot.owner = Some(owner);
        }
        for name in &written {
            if let Some(instances) = current.attrs.get(name) {
                for instance in instances.iter().filter(|a| a.modified_at == Some(now)) {
                    history.push(HistoryInsert { slot: slot_index, attr: name.clone(), instance: instance.clone() });
                }
            }
        }
        slot.changed.extend(written);
        slot.dirty = true;
        Ok(outcome)
    }

    async fn intern(&mut self, conn: &mut SqliteConnection, iri: &str) -> Result<i64, StoreError> {
        if let Some(&id) = self.names.get(iri) {
            return Ok(id);
        }
        let id: i64 = sqlx::query_scalar("INSERT INTO ctx_names (iri) VALUES ($1) RETURNING id")
            .bind(iri)
            .fetch_one(&mut *conn)
            .await?;
        self.names.insert(iri.to_owned(), id);
        Ok(id)
    }

    async fn write_slots(
        &mut self,
        conn: &mut SqliteConnection,
        slots: &mut [Slot],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for slot in slots.iter_mut().filter(|s| s.dirty) {
            match (&slot.current, slot.pk) {
                (None, None) => {}
                (None, Some(pk)) => {
                    sqlx::query("DELETE FROM ctx_entities WHERE pk = $1").bind(pk).execute(&mut *conn).await?;
                    sqlx::query("DELETE FROM ctx_entity_geo WHERE pk = $1").bind(pk).execute(&mut *conn).await?;
                    sqlx::query("DELETE FROM ctx_history WHERE entity = $1").bind(pk).execute(&mut *conn).await?;
                    sqlx::query("DELETE FROM ctx_history_hourly WHERE entity = $1")
                        .bind(pk)
                        .execute(&mut *conn)
                        .await?;
                    slot.pk = None;
                }
                (Some(entity), pk) => {
                    let doc = entity.to_stored().to_string();
                    let created = entity.created_at.map(millis).unwrap_or_else(|| millis(now));
                    let pk = match pk {
                        Some(pk) => {
                            sqlx::query(
                                "UPDATE ctx_entities SET doc = $1, owner_unit = $2, modified_at = $3 WHERE pk = $4",
                            )
                            .bind(&doc)
                            .bind(slot.owner.map(|u| u.0))
                            .bind(millis(now))
                            .bind(pk)
                            .execute(&mut *conn)
                            .await?;
                            pk
                        }
                        None => {
                            sqlx::query_scalar(
                                "INSERT INTO ctx_entities (tenant, id, owner_unit, doc, created_at, modified_at)
                                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING pk",
                            )
                            .bind(&slot.tenant)
                            .bind(&slot.id)
                            .bind(slot.owner.map(|u| u.0))
                            .bind(&doc)
                            .bind(created)
                            .bind(millis(now))
                            .fetch_one(&mut *conn)
                            .await?
                        }
                    };
                    slot.pk = Some(pk);
                    self.write_side_tables(conn, pk, slot.before.as_ref(), entity).await?;
                }
            }
        }
        Ok(())
    }

    /// Keeps the type, attribute and bounding-box tables in step with the entity, touching
    /// only what changed (most updates change values, not the set of attributes).
    async fn write_side_tables(
        &mut self,
        conn: &mut SqliteConnection,
        pk: i64,
        before: Option<&Entity>,
        after: &Entity,
    ) -> Result<(), StoreError> {
        let empty = BTreeSet::new();
        let old_types: BTreeSet<&String> = before.map(|e| e.types.iter().collect()).unwrap_or_default();
        let new_types: BTreeSet<&String> = after.types.iter().collect();
        for t in new_types.difference(&old_types) {
            let id = self.intern(conn, t).await?;
            sqlx::query("INSERT OR IGNORE INTO ctx_entity_types (type, entity) VALUES ($1, $2)")
                .bind(id)
                .bind(pk)
                .execute(&mut *conn)
                .await?;
        }
        for t in old_types.difference(&new_types) {
            let id = self.intern(conn, t).await?;
            sqlx::query("DELETE FROM ctx_entity_types WHERE type = $1 AND entity = $2")
                .bind(id)
                .bind(pk)
                .execute(&mut *conn)
                .await?;
        }
        let old_attrs: BTreeSet<&String> = before.map(|e| e.attrs.keys().collect()).unwrap_or(empty);
        let new_attrs: BTreeSet<&String> = after.attrs.keys().collect();
        for a in new_attrs.difference(&old_attrs) {
            let id = self.intern(conn, a).await?;
            sqlx::query("INSERT OR IGNORE INTO ctx_entity_attrs (attr, entity) VALUES ($1, $2)")
                .bind(id)
                .bind(pk)
                .execute(&mut *conn)
                .await?;
        }
        for a in old_attrs.difference(&new_attrs) {
            let id = self.intern(conn, a).await?;
            sqlx::query("DELETE FROM ctx_entity_attrs WHERE attr = $1 AND entity = $2")
                .bind(id)
                .bind(pk)
                .execute(&mut *conn)
                .await?;
        }
        let old_geo = before.and_then(|e| e.attrs.get(names::LOCATION));
        let new_geo = after.attrs.get(names::LOCATION);
        if before.is_none() || old_geo != new_geo {
            sqlx::query("DELETE FROM ctx_entity_geo WHERE pk = $1").bind(pk).execute(&mut *conn).await?;
            if let Some(rect) = after.geometry(names::LOCATION).and_then(|g| geo::BoundingRect::bounding_rect(&g)) {
                sqlx::query(
                    "INSERT INTO ctx_entity_geo (pk, min_lon, max_lon, min_lat, max_lat) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(pk)
                .bind(rect.min().x)
                .bind(rect.max().x)
                .bind(rect.min().y)
                .bind(rect.max().y)
                .execute(&mut *conn)
                .await?;
            }
        }
        Ok(())
    }

    async fn write_history(
        &mut self,
        conn: &mut SqliteConnection,
        slots: &[Slot],
        history: &[HistoryInsert],
    ) -> Result<(), StoreError> {
        // Deleted entities take their history with them; skip rows for them.
        let mut rows = Vec::with_capacity(history.len());
        // An attribute written twice in one group (two requests, or the layers of a temporal
        // write) is pushed with every instance stamped now, so an unchanged instance of another
        // datasetId comes again: skip an instance equal to the last one of its series.
        let mut last: HashMap<(usize, &str, Option<&str>), &Attribute> = HashMap::new();
        for h in history {
            let Some(pk) = slots[h.slot].pk.filter(|_| slots[h.slot].current.is_some()) else { continue };
            let key = (h.slot, h.attr.as_str(), h.instance.dataset_id.as_deref());
            if last.insert(key, &h.instance) == Some(&h.instance) {
                continue;
            }
            let attr = self.intern(conn, &h.attr).await?;
            let seq = self.next_seq;
            self.next_seq += 1;
            rows.push((pk, attr, seq, &h.instance));
        }
        // 9 parameters a row; SQLite allows 32,766 per statement.
        for chunk in rows.chunks(500) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO ctx_history (entity, attr, dataset, observed_at, seq, modified_at, value, doc, has_observed) ",
            );
            q.push_values(chunk, |mut b, (pk, attr, seq, instance)| {
                let modified = instance.modified_at.map(millis).unwrap_or_default();
                let observed = instance.observed_at.map(millis).unwrap_or(modified);
                let (value, doc) = split_instance(instance);
                b.push_bind(*pk)
                    .push_bind(*attr)
                    .push_bind(instance.dataset_id.clone().unwrap_or_default())
                    .push_bind(observed)
                    .push_bind(*seq)
                    .push_bind(modified);
                match value {
                    Scalar::Number(n) => b.push_bind(n),
                    Scalar::Text(s) => b.push_bind(s),
                    Scalar::None => b.push_bind(None::<f64>),
                };
                b.push_bind(doc).push_bind(instance.observed_at.is_some());
            });
            q.build().execute(&mut *conn).await?;
        }
        Ok(())
    }
}

enum Scalar {
    Number(f64),
    Text(String),
    None,
}

/// A plain Property (a number or a string, maybe a unit) goes into `value` and a small `doc`;
/// anything else is kept whole in `doc`. Most sensor history is the first kind.
fn split_instance(a: &Attribute) -> (Scalar, Option<String>) {
    let plain = a.kind == AttrKind::Property && a.sub_attrs.is_empty() && a.object_type.is_none();
    match (&a.value, plain) {
        (Value::Number(n), true) if n.as_f64().is_some() => {
            (Scalar::Number(n.as_f64().unwrap_or_default()), a.unit_code.as_ref().map(|u| unit_doc(u)))
        }
        (Value::String(s), true) => (Scalar::Text(s.clone()), a.unit_code.as_ref().map(|u| unit_doc(u))),
        _ => (Scalar::None, Some(a.to_stored().to_string())),
    }
}

fn unit_doc(unit: &str) -> String {
    serde_json::json!({ "unitCode": unit }).to_string()
}

fn stamp_new(entity: &mut Entity, now: DateTime<Utc>) {
    entity.created_at = Some(now);
    entity.modified_at = Some(now);
    for instances in entity.attrs.values_mut() {
        for a in instances {
            a.created_at = Some(now);
            a.modified_at = Some(now);
        }
    }
}

pub(crate) fn parse_stored(doc: &str) -> Result<Entity, StoreError> {
    let value: Value = serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("stored entity: {e}")))?;
    Entity::from_stored(&value).map_err(|e| StoreError::Corrupt(format!("stored entity: {e}")))
}

fn check_new(access: &WriteAccess, entity: &Entity) -> Result<(), NgsiError> {
    if let Some(types) = &access.types
        && !entity.types.iter().all(|t| types.contains(t))
    {
        return Err(forbidden(&entity.id));
    }
    Ok(())
}

fn missing(id: &str) -> NgsiError {
    NgsiError::not_found(format!("no entity {id}"))
}

fn forbidden(id: &str) -> NgsiError {
    NgsiError::new(ErrorKind::Forbidden, format!("you may not write entity {id} (outside your units or entity types)"))
}
