//! The audit log: an append-only record of every change, chained by hashes so that editing or
//! removing an entry afterwards is visible (`verify_audit_chain`).

use crate::time::{parse, ts};
use crate::{Cursor, Page, Store, StoreError};
use chrono::{DateTime, Utc};
use haidang_core::{AuditId, OrgUnitId, PrincipalKind};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use utoipa::ToSchema;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who made a change, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Actor {
    /// `user`, `token` or `system`.
    pub kind: String,
    pub id: Option<i64>,
    pub name: String,
}

impl From<&PrincipalKind> for Actor {
    fn from(p: &PrincipalKind) -> Self {
        match p {
            PrincipalKind::User { id, username } => {
                Actor { kind: "user".into(), id: Some(id.0), name: username.clone() }
            }
            PrincipalKind::Token { id, name } => Actor { kind: "token".into(), id: Some(id.0), name: name.clone() },
            PrincipalKind::System => Actor { kind: "system".into(), id: None, name: "system".into() },
        }
    }
}

/// Where a change came from: recorded with it.
#[derive(Debug, Clone)]
pub struct AuditCtx {
    pub actor: Actor,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl AuditCtx {
    /// Changes made by the platform itself (command line, demo loader, scheduled jobs).
    pub fn system(what: &str) -> Self {
        AuditCtx {
            actor: Actor { kind: "system".into(), id: None, name: what.to_owned() },
            ip: None,
            user_agent: None,
            request_id: None,
        }
    }
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct Change {
    /// `object.verb`, e.g. `user.create`.
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: Option<String>,
    /// The unit the change concerns, which decides who may read the entry.
    pub unit_id: Option<OrgUnitId>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Change {
    pub fn new(action: &'static str, object_type: &'static str, object_id: impl ToString) -> Self {
        Change { action, object_type, object_id: Some(object_id.to_string()), unit_id: None, before: None, after: None }
    }

    pub fn unit(mut self, unit: OrgUnitId) -> Self {
        self.unit_id = Some(unit);
        self
    }

    pub fn before(mut self, v: impl Serialize) -> Self {
        self.before = serde_json::to_value(v).ok();
        self
    }

    pub fn after(mut self, v: impl Serialize) -> Self {
        self.after = serde_json::to_value(v).ok();
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: AuditId,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub unit_id: Option<OrgUnitId>,
    /// `{"before": ..., "after": ...}`
    #[schema(value_type = Object)]
    pub summary: Value,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub hash: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub unit: Option<OrgUnitId>,
    /// Free text, matched in who acted, the action, the object and the summary.
    pub q: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Subtree roots the reader may see; `None` for everything.
    pub scope: Option<Vec<OrgUnitId>>,
    /// Whether entries tied to no unit (platform-wide changes) are visible.
    pub include_unscoped: bool,
    pub limit: usize,
    pub after: Option<Cursor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChainCheck {
    pub ok: bool,
    pub entries: i64,
    /// The first entry whose hash does not match, when the chain is broken.
    pub first_bad_id: Option<i64>,
}

struct Hashed<'a> {
    at: &'a str,
    actor: &'a Actor,
    action: &'a str,
    object_type: &'a str,
    object_id: Option<&'a str>,
    unit_id: Option<i64>,
    summary: &'a str,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    request_id: Option<&'a str>,
}

impl Hashed<'_> {
    fn hash(&self, prev: &str) -> String {
        let canonical = serde_json::json!([
            prev,
            self.at,
            self.actor.kind,
            self.actor.id,
            self.actor.name,
            self.action,
            self.object_type,
            self.object_id,
            self.unit_id,
            self.summary,
            self.ip,
            self.user_agent,
            self.request_id,
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// Appends an entry inside the caller's transaction, so the change and its record commit together.
pub(crate) async fn append(
    conn: &mut SqliteConnection,
    ctx: &AuditCtx,
    change: Change,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let prev: Option<String> =
        sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetch_optional(&mut *conn).await?;
    let prev = prev.unwrap_or_else(|| GENESIS.to_owned());
    let at = ts(now);
    let summary = serde_json::json!({ "before": change.before, "after": change.after }).to_string();
    let fields = Hashed {
        at: &at,
        actor: &ctx.actor,
        action: change.action,
        object_type: change.object_type,
        object_id: change.object_id.as_deref(),
        unit_id: change.unit_id.map(|u| u.0),
        summary: &summary,
        ip: ctx.ip.as_deref(),
        user_agent: ctx.user_agent.as_deref(),
        request_id: ctx.request_id.as_deref(),
    };
    let hash = fields.hash(&prev);
    sqlx::query(
        "INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, action, object_type, object_id,
             unit_id, summary, ip, user_agent, request_id, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&at)
    .bind(&ctx.actor.kind)
    .bind(ctx.actor.id)
    .bind(&ctx.actor.name)
    .bind(change.action)
    .bind(change.object_type)
    .bind(&change.object_id)
    .bind(change.unit_id.map(|u| u.0))
    .bind(&summary)
    .bind(&ctx.ip)
    .bind(&ctx.user_agent)
    .bind(&ctx.request_id)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: String,
    actor_kind: String,
    actor_id: Option<i64>,
    actor_name: String,
    action: String,
    object_type: String,
    object_id: Option<String>,
    unit_id: Option<i64>,
    summary: String,
    ip: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
    prev_hash: String,
    hash: String,
}

impl AuditRow {
    fn actor(&self) -> Actor {
        Actor { kind: self.actor_kind.clone(), id: self.actor_id, name: self.actor_name.clone() }
    }

    /// The hash this entry must carry if nothing was changed after it was written.
    fn expected_hash(&self, prev: &str) -> String {
        Hashed {
            at: &self.at,
            actor: &self.actor(),
            action: &self.action,
            object_type: &self.object_type,
            object_id: self.object_id.as_deref(),
            unit_id: self.unit_id,
            summary: &self.summary,
            ip: self.ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
            request_id: self.request_id.as_deref(),
        }
        .hash(prev)
    }
}

const AUDIT_COLUMNS: &str = "a.id, a.at, a.actor_kind, a.actor_id, a.actor_name, a.action, a.object_type, \
     a.object_id, a.unit_id, a.summary, a.ip, a.user_agent, a.request_id, a.prev_hash, a.hash";

fn entry(row: AuditRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: AuditId(row.id),
        at: parse(&row.at)?,
        actor: row.actor(),
        action: row.action,
        object_type: row.object_type,
        object_id: row.object_id,
        unit_id: row.unit_id.map(OrgUnitId),
        summary: serde_json::from_str(&row.summary).unwrap_or(Value::String(row.summary)),
        ip: row.ip,
        user_agent: row.user_agent,
        request_id: row.request_id,
        hash: row.hash,
    })
}

/// Appends `AND column IN (units of the given subtrees)` to a query.
pub(crate) fn push_scope(qb: &mut QueryBuilder<'_, Sqlite>, column: &str, roots: &[OrgUnitId]) {
    if roots.is_empty() {
        qb.push(" AND 1 = 0");
        return;
    }
    qb.push(format_args!(
        " AND {column} IN (SELECT su.id FROM org_units su JOIN org_units sr ON su.path LIKE sr.path || '%' WHERE sr.id IN ("
    ));
    let mut sep = qb.separated(", ");
    for r in roots {
        sep.push_bind(r.0);
    }
    qb.push("))");
}

impl Store {
    pub async fn list_audit(&self, f: &AuditFilter) -> Result<Page<AuditEntry>, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {AUDIT_COLUMNS} FROM audit_log a WHERE 1 = 1"));
        if let Some(actor) = &f.actor {
            qb.push(" AND a.actor_name = ").push_bind(actor.clone());
        }
        if let Some(action) = &f.action {
            qb.push(" AND (a.action = ").push_bind(action.clone());
            qb.push(" OR a.action LIKE ").push_bind(format!("{}.%", escape_like(action)));
            qb.push(" ESCAPE '\\')");
        }
        if let Some(t) = &f.object_type {
            qb.push(" AND a.object_type = ").push_bind(t.clone());
        }
        if let Some(id) = &f.object_id {
            qb.push(" AND a.object_id = ").push_bind(id.clone());
        }
        if let Some(u) = f.unit {
            qb.push(" AND a.unit_id = ").push_bind(u.0);
        }
        if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let pattern = format!("%{}%", escape_like(q));
            qb.push(" AND (a.actor_name LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
            qb.push(" OR a.action LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
            qb.push(" OR a.object_id LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
            qb.push(" OR a.summary LIKE ").push_bind(pattern).push(" ESCAPE '\\')");
        }
        if let Some(from) = f.from {
            qb.push(" AND a.at >= ").push_bind(ts(from));
        }
        if let Some(to) = f.to {
            qb.push(" AND a.at < ").push_bind(ts(to));
        }
        if let Some(roots) = &f.scope {
            if f.include_unscoped {
                qb.push(" AND (a.unit_id IS NULL OR 1 = 1");
                push_scope(&mut qb, "a.unit_id", roots);
                qb.push(")");
            } else {
                qb.push(" AND a.unit_id IS NOT NULL");
                push_scope(&mut qb, "a.unit_id", roots);
            }
        }
        if let Some(c) = &f.after {
            qb.push(" AND a.id < ").push_bind(c.id);
        }
        qb.push(" ORDER BY a.id DESC LIMIT ").push_bind((f.limit + 1) as i64);
        let rows: Vec<AuditRow> = qb.build_query_as().fetch_all(&self.reader).await?;
        let items = rows.into_iter().map(entry).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(items, f.limit, |e| Cursor { key: String::new(), id: e.id.0 }))
    }

    /// Recomputes the hash chain from the first entry and reports the first break, if any.
    pub async fn verify_audit_chain(&self) -> Result<ChainCheck, StoreError> {
        use futures_lite::StreamExt;
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log a ORDER BY a.id");
        let mut rows = sqlx::query_as::<_, AuditRow>(&sql).fetch(&self.reader);
        let mut prev = GENESIS.to_owned();
        let mut entries = 0;
        while let Some(row) = rows.next().await {
            let row = row?;
            entries += 1;
            if row.prev_hash != prev || row.expected_hash(&prev) != row.hash {
                return Ok(ChainCheck { ok: false, entries, first_bad_id: Some(row.id) });
            }
            prev = row.hash;
        }
        Ok(ChainCheck { ok: true, entries, first_bad_id: None })
    }

    /// Records an event that changes no other table (a login, a view of personal data).
    pub async fn record(&self, ctx: &AuditCtx, change: Change) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        append(&mut tx, ctx, change, self.clock.now()).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub(crate) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
