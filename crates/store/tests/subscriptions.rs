//! Subscriptions in the store: the writer queues notifications in the transaction of the change
//! (they survive a reopen), only for subscriptions that match and subscribers that may see the
//! entity; the outbox keeps order per subscription through failures and throttling.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use haidang_core::{Clock, ManualClock, OrgUnitId, OrgUnitType};
use haidang_ngsi::Context;
use haidang_ngsi::entity::{BodyKind, Entity};
use haidang_ngsi::subscription::{Change, Subscription, Trigger};
use haidang_store::context::{NewSubscription, SubscriberReach, WriteAccess, WriteOp, WritePolicy};
use haidang_store::{AuditCtx, Contact, NewOrgUnit, Store};
use serde_json::{Value, json};

struct Owner(OrgUnitId);

impl WritePolicy for Owner {
    fn owner(&self, _: &Entity, _: &WriteAccess) -> OrgUnitId {
        self.0
    }
    fn may_write(&self, _: &WriteAccess, _: OrgUnitId, _: &Entity) -> bool {
        true
    }
}

async fn setup(dir: &std::path::Path) -> (Store, ManualClock, OrgUnitId) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap());
    let store = Store::open(dir, Arc::new(clock.clone())).await.unwrap();
    let unit = match store.org_unit_by_code("P").await {
        Ok(u) => u.id,
        Err(_) => {
            let new = NewOrgUnit {
                code: "P".into(),
                name: "Province".into(),
                short_name: None,
                unit_type: OrgUnitType::Province,
                parent_id: None,
                lat: None,
                lon: None,
                area_km2: None,
                demo_code: false,
                contact: Contact::default(),
            };
            store.create_org_unit(&AuditCtx::system("test"), new).await.unwrap().id
        }
    };
    (store, clock, unit)
}

fn subscription(id: &str, extra: Value, now: chrono::DateTime<Utc>) -> Subscription {
    let mut body = json!({
        "id": id, "type": "Subscription",
        "entities": [{"type": "Sensor"}],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}},
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    Subscription::parse(&body, &Context::core(), now).unwrap()
}

fn sensor(id: &str, value: f64) -> Entity {
    Entity::parse(
        &json!({"id": id, "type": "Sensor", "temperature": {"type": "Property", "value": value}}),
        &Context::core(),
        BodyKind::Entity,
    )
    .unwrap()
}

async fn write(store: &Store, unit: OrgUnitId, ops: Vec<WriteOp>) {
    let access = Arc::new(WriteAccess { unit, scope: None, types: None });
    let results = store.context_writer().await.unwrap().write("", access, Arc::new(Owner(unit)), ops).await.unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
}

async fn subscribe(store: &Store, unit: OrgUnitId, sub: &Subscription, reach: &SubscriberReach) -> i64 {
    let new = NewSubscription { tenant: "", owner: unit, reach, subscription: sub, context: &json!(null) };
    assert!(store.create_subscription(&AuditCtx::system("test"), new).await.unwrap());
    store.subscription("", &sub.id, None).await.unwrap().unwrap().pk
}

fn values(changes: &[Value]) -> Vec<f64> {
    changes
        .iter()
        .map(|c| {
            let c = Change::from_stored(c).unwrap();
            c.entity.attrs.values().next().unwrap()[0].value.as_f64().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn changes_queue_notifications_that_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clock, unit) = setup(dir.path()).await;
    let now = clock.now();
    let sub = subscription("urn:ngsi-ld:Subscription:a", json!({}), now);
    let pk = subscribe(&store, unit, &sub, &SubscriberReach::default()).await;
    let dup = NewSubscription {
        tenant: "",
        owner: unit,
        reach: &SubscriberReach::default(),
        subscription: &sub,
        context: &json!(null),
    };
    assert!(!store.create_subscription(&AuditCtx::system("test"), dup).await.unwrap(), "duplicate id");

    write(&store, unit, vec![WriteOp::Create { entity: sensor("urn:ngsi-ld:Sensor:1", 1.0) }]).await;
    // Other types do not match.
    let other = Entity { types: vec!["https://example.org/Other".into()], ..sensor("urn:ngsi-ld:Other:1", 5.0) };
    write(&store, unit, vec![WriteOp::Create { entity: other }]).await;
    let fragment = Entity { id: String::new(), types: Vec::new(), ..sensor("urn:ngsi-ld:Sensor:1", 2.0) };
    write(&store, unit, vec![WriteOp::Update { id: "urn:ngsi-ld:Sensor:1".into(), fragment }]).await;

    assert_eq!(store.subscriptions_due(now, &[], 10).await.unwrap(), vec![pk]);
    let pending = store.pending_notifications(pk, 100).await.unwrap().unwrap();
    assert_eq!(values(&pending.changes), vec![1.0, 2.0]);
    assert_eq!(Change::from_stored(&pending.changes[0]).unwrap().trigger, Trigger::EntityCreated);
    assert_eq!(Change::from_stored(&pending.changes[1]).unwrap().trigger, Trigger::AttributeUpdated);

    store.close().await;
    let (store, _clock, _) = setup(dir.path()).await;
    let pending = store.pending_notifications(pk, 100).await.unwrap().unwrap();
    assert_eq!(values(&pending.changes), vec![1.0, 2.0], "nothing lost over a reopen");
    store.notifications_delivered(pk, &pending.row_pks, now).await.unwrap();
    assert!(store.pending_notifications(pk, 100).await.unwrap().is_none());
    let row = store.subscription("", "urn:ngsi-ld:Subscription:a", None).await.unwrap().unwrap();
    assert_eq!(row.delivery.times_sent, 1);
    assert_eq!(row.delivery.last_success, Some(now));
}

#[tokio::test]
async fn failures_back_off_in_order_and_new_changes_wait_behind_them() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clock, unit) = setup(dir.path()).await;
    let now = clock.now();
    let sub = subscription("urn:ngsi-ld:Subscription:b", json!({}), now);
    let pk = subscribe(&store, unit, &sub, &SubscriberReach::default()).await;
    write(&store, unit, vec![WriteOp::Create { entity: sensor("urn:ngsi-ld:Sensor:2", 1.0) }]).await;
    let first = store.pending_notifications(pk, 100).await.unwrap().unwrap();
    let retry = now + Duration::seconds(30);
    store.notifications_failed(pk, &first.row_pks, now, Some(retry), "connection refused").await.unwrap();
    assert!(store.subscriptions_due(now, &[], 10).await.unwrap().is_empty());
    assert_eq!(store.next_notification_due(&[]).await.unwrap(), Some(retry));

    // A change now queues behind the waiting one: the subscription is not due before `retry`.
    let fragment = Entity { id: String::new(), types: Vec::new(), ..sensor("urn:ngsi-ld:Sensor:2", 2.0) };
    write(&store, unit, vec![WriteOp::Update { id: "urn:ngsi-ld:Sensor:2".into(), fragment }]).await;
    assert!(store.subscriptions_due(now, &[], 10).await.unwrap().is_empty());
    assert_eq!(store.subscriptions_due(retry, &[], 10).await.unwrap(), vec![pk]);
    assert!(store.subscriptions_due(retry, &[pk], 10).await.unwrap().is_empty(), "busy ones are left out");
    let pending = store.pending_notifications(pk, 100).await.unwrap().unwrap();
    assert_eq!(values(&pending.changes), vec![1.0, 2.0]);
    assert_eq!(pending.attempts, 1);
    let row = store.subscription_by_key(pk).await.unwrap().unwrap();
    assert_eq!(row.delivery.times_failed, 1);
    assert_eq!(row.delivery.last_failure, Some(now));

    // Throttling defers, giving up drops.
    store.defer_notifications(pk, retry + Duration::seconds(5)).await.unwrap();
    assert!(store.subscriptions_due(retry, &[], 10).await.unwrap().is_empty());
    store.notifications_failed(pk, &pending.row_pks, retry, None, "gave up").await.unwrap();
    assert_eq!(store.pending_notification_count().await.unwrap(), 0);
}

#[tokio::test]
async fn inactive_expired_deleted_and_out_of_reach_subscriptions_queue_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clock, unit) = setup(dir.path()).await;
    let now = clock.now();
    let paused = subscription("urn:ngsi-ld:Subscription:p", json!({"isActive": false}), now);
    subscribe(&store, unit, &paused, &SubscriberReach::default()).await;
    let expiring = subscription("urn:ngsi-ld:Subscription:e", json!({"expiresAt": "2026-03-01T08:00:01Z"}), now);
    subscribe(&store, unit, &expiring, &SubscriberReach::default()).await;
    let elsewhere = SubscriberReach { units: Some(vec![OrgUnitId(unit.0 + 1000)]), types: None };
    let other_unit = subscription("urn:ngsi-ld:Subscription:o", json!({}), now);
    subscribe(&store, unit, &other_unit, &elsewhere).await;
    let typed = SubscriberReach { units: None, types: Some(vec!["https://example.org/Other".into()]) };
    let other_type = subscription("urn:ngsi-ld:Subscription:t", json!({}), now);
    subscribe(&store, unit, &other_type, &typed).await;
    let deleted = subscription("urn:ngsi-ld:Subscription:d", json!({}), now);
    subscribe(&store, unit, &deleted, &SubscriberReach::default()).await;
    let row = store.subscription("", &deleted.id, None).await.unwrap().unwrap();
    assert!(store.delete_subscription(&AuditCtx::system("test"), &row).await.unwrap());

    clock.advance(Duration::seconds(2));
    write(&store, unit, vec![WriteOp::Create { entity: sensor("urn:ngsi-ld:Sensor:3", 1.0) }]).await;
    assert_eq!(store.pending_notification_count().await.unwrap(), 0);

    // A reach that holds the owner and the type does get it.
    let mine = SubscriberReach {
        units: Some(vec![unit]),
        types: Some(vec!["https://uri.etsi.org/ngsi-ld/default-context/Sensor".into()]),
    };
    let sub = subscription("urn:ngsi-ld:Subscription:m", json!({}), clock.now());
    subscribe(&store, unit, &sub, &mine).await;
    write(&store, unit, vec![WriteOp::Delete { id: "urn:ngsi-ld:Sensor:3".into() }]).await;
    assert_eq!(store.pending_notification_count().await.unwrap(), 0, "deletion is not a default trigger");
    write(&store, unit, vec![WriteOp::Create { entity: sensor("urn:ngsi-ld:Sensor:3", 1.0) }]).await;
    assert_eq!(store.pending_notification_count().await.unwrap(), 1);
}
