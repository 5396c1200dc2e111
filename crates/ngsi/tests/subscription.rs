//! Subscriptions and notifications (ETSI GS CIM 009 V1.8.1 clauses 5.2.12, 5.2.14, 5.2.15,
//! 5.8, 5.11): parsing and refusals, PATCH merging, the stored form, trigger rules, and the
//! notification body.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use haidang_ngsi::Context;
use haidang_ngsi::entity::{BodyKind, Entity};
use haidang_ngsi::error::ErrorKind;
use haidang_ngsi::subscription::{Delivery, NotifyAccept, Status, Subscription, Trigger};
use serde_json::{Value, json};

const TS: &str = "https://ngsi-ld-test-suite/context#";

fn ctx() -> Arc<Context> {
    Context::resolve_local(&json!({
        "Building": format!("{TS}Building"),
        "Vehicle": format!("{TS}Vehicle"),
        "name": format!("{TS}name"),
        "speed": format!("{TS}speed"),
        "airQualityLevel": format!("{TS}airQualityLevel"),
    }))
    .unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn base() -> Value {
    json!({
        "id": "urn:ngsi-ld:Subscription:s1",
        "type": "Subscription",
        "entities": [{"type": "Building"}],
        "notification": {"endpoint": {"uri": "http://localhost:1111/notify"}},
    })
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

fn parse(body: Value) -> Subscription {
    Subscription::parse(&body, &ctx(), now()).unwrap_or_else(|e| panic!("{e} for {body}"))
}

fn refused(body: Value) -> ErrorKind {
    match Subscription::parse(&body, &ctx(), now()) {
        Ok(s) => panic!("accepted {body}: {s:?}"),
        Err(e) => {
            assert!(!e.detail.is_empty());
            e.kind
        }
    }
}

fn building(id: &str, attrs: Value) -> Entity {
    let mut body = json!({"id": id, "type": "Building"});
    for (k, v) in attrs.as_object().unwrap() {
        body[k] = v.clone();
    }
    Entity::parse(&body, &ctx(), BodyKind::Entity).unwrap()
}

fn names(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|n| format!("{TS}{n}")).collect()
}

mod clause_5_2_12_subscription {
    use super::*;

    #[test]
    fn names_are_expanded_and_rendered_back_with_the_readers_context() {
        let body = json!({
            "id": "urn:ngsi-ld:Subscription:s1",
            "type": "Subscription",
            "subscriptionName": "buildings",
            "description": "all buildings",
            "entities": [{"type": "Building", "idPattern": "urn:ngsi-ld:Building:.*"}],
            "watchedAttributes": ["airQualityLevel"],
            "q": "airQualityLevel>3",
            "geoQ": {"geometry": "Point", "coordinates": [8.0, 45.0], "georel": "near;maxDistance==2000"},
            "notification": {
                "attributes": ["name"],
                "format": "keyValues",
                "endpoint": {"uri": "https://example.org/n", "accept": "application/ld+json",
                             "receiverInfo": [{"key": "X-Key", "value": "v"}]},
            },
            "expiresAt": "2030-01-01T00:00:00Z",
            "throttling": 5,
        });
        let s = parse(body);
        assert_eq!(s.entities[0].types, vec![format!("{TS}Building")]);
        assert_eq!(s.watched_attributes, Some(vec![format!("{TS}airQualityLevel")]));
        assert_eq!(s.notification.attributes, Some(vec![format!("{TS}name")]));
        assert_eq!(s.notification.endpoint.accept(), NotifyAccept::LdJson);
        let r = s.render(&ctx(), &Delivery::default(), now(), false);
        assert_eq!(r["entities"][0]["type"], "Building");
        assert_eq!(r["watchedAttributes"], json!(["airQualityLevel"]));
        assert_eq!(r["q"], "airQualityLevel>3");
        assert_eq!(r["geoQ"]["georel"], "near;maxDistance==2000");
        assert_eq!(r["notification"]["attributes"], json!(["name"]));
        assert_eq!(r["notification"]["endpoint"]["receiverInfo"][0]["key"], "X-Key");
        assert_eq!(r["status"], "active");
        assert_eq!(r["notificationTrigger"], json!(["attributeCreated", "attributeUpdated"]));
        assert_eq!(r["throttling"], 5.0);
        // Read with the core context alone, the names stay full IRIs.
        let core = s.render(&Context::core(), &Delivery::default(), now(), false);
        assert_eq!(core["watchedAttributes"], json!([format!("{TS}airQualityLevel")]));
    }

    #[test]
    fn only_what_the_client_set_is_echoed() {
        let r = parse(base()).render(&ctx(), &Delivery::default(), now(), false);
        let keys: BTreeSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["id", "type", "entities", "notification", "notificationTrigger", "status"]));
        assert_eq!(r["notification"]["endpoint"], json!({"uri": "http://localhost:1111/notify"}));
        assert!(r["notification"].get("status").is_none(), "no delivery yet: {r}");
    }

    #[test]
    fn the_type_is_required_and_must_be_subscription() {
        assert_eq!(refused(json!({})), ErrorKind::BadRequestData);
        let mut b = base();
        b.as_object_mut().unwrap().remove("type");
        assert_eq!(refused(b), ErrorKind::BadRequestData);
        assert_eq!(refused(with(base(), "type", json!("Registration"))), ErrorKind::BadRequestData);
    }

    #[test]
    fn entities_or_watched_attributes_are_required() {
        let mut b = base();
        b.as_object_mut().unwrap().remove("entities");
        assert_eq!(refused(b.clone()), ErrorKind::BadRequestData);
        let s = parse(with(b, "watchedAttributes", json!(["speed"])));
        assert!(s.entities.is_empty());
        assert_eq!(refused(with(base(), "entities", json!([]))), ErrorKind::BadRequestData);
        assert_eq!(refused(with(base(), "watchedAttributes", json!([]))), ErrorKind::BadRequestData);
        assert_eq!(refused(with(base(), "entities", json!([{"id": "urn:x:1"}]))), ErrorKind::BadRequestData);
    }

    #[test]
    fn malformed_members_are_bad_request_data() {
        for (key, value) in [
            ("id", json!("not a uri")),
            ("q", json!("speed>>3")),
            ("q", json!(7)),
            ("geoQ", json!({"geometry": "Point", "coordinates": [1, 2], "georel": "nearby"})),
            ("geoQ", json!({"geometry": "Point", "georel": "within"})),
            ("throttling", json!(-1)),
            ("throttling", json!("5")),
            ("expiresAt", json!("tomorrow")),
            ("expiresAt", json!("2020-01-01T00:00:00Z")),
            ("isActive", json!("yes")),
            ("notificationTrigger", json!(["entityTouched"])),
            ("entities", json!([{"type": "Building", "idPattern": "("}])),
            ("jsonldContext", json!("no uri")),
        ] {
            assert_eq!(refused(with(base(), key, value.clone())), ErrorKind::BadRequestData, "{key}: {value}");
        }
    }

    #[test]
    fn time_interval_excludes_watched_attributes_and_throttling() {
        let s = parse(with(base(), "timeInterval", json!(5)));
        assert_eq!(s.time_interval, Some(5.0));
        let b = with(base(), "timeInterval", json!(5));
        assert_eq!(refused(with(b.clone(), "watchedAttributes", json!(["speed"]))), ErrorKind::BadRequestData);
        assert_eq!(refused(with(b, "throttling", json!(2))), ErrorKind::BadRequestData);
    }

    #[test]
    fn unimplemented_filters_are_refused_not_ignored() {
        assert_eq!(refused(with(base(), "scopeQ", json!("/a"))), ErrorKind::OperationNotSupported);
        assert_eq!(refused(with(base(), "csf", json!("a==1"))), ErrorKind::OperationNotSupported);
    }

    #[test]
    fn status_follows_is_active_and_expires_at() {
        let s = parse(with(base(), "expiresAt", json!("2026-01-02T00:00:00Z")));
        assert_eq!(s.status(now()), Status::Active);
        assert_eq!(s.status(now() + chrono::Duration::days(2)), Status::Expired);
        let paused = parse(with(base(), "isActive", json!(false)));
        assert_eq!(paused.status(now()), Status::Paused);
    }

    #[test]
    fn the_stored_form_reads_back_equal() {
        let mut b = base();
        b["q"] = json!("airQualityLevel>3;name~=\"^Tour\"");
        b["geoQ"] = json!({"geometry": "Polygon", "georel": "within",
                           "coordinates": [[[0, 0], [0, 10], [10, 10], [10, 0], [0, 0]]]});
        b["notificationTrigger"] = json!(["entityDeleted", "attributeDeleted"]);
        b["notification"]["showChanges"] = json!(true);
        let s = parse(b);
        let back = Subscription::from_stored(&s.to_stored()).unwrap();
        assert_eq!(back, s);
    }
}

mod clause_5_2_15_endpoint {
    use super::*;

    fn endpoint(e: Value) -> Value {
        let mut b = base();
        b["notification"]["endpoint"] = e;
        b
    }

    #[test]
    fn the_uri_must_be_http_or_https() {
        for uri in ["ftp://example.org/x", "mqtt://broker/topic", "localhost:1111/notify", "http://", "not a uri"] {
            assert_eq!(refused(endpoint(json!({"uri": uri}))), ErrorKind::BadRequestData, "{uri}");
        }
        assert_eq!(refused(endpoint(json!({}))), ErrorKind::BadRequestData);
        let mut b = base();
        b["notification"].as_object_mut().unwrap().remove("endpoint");
        assert_eq!(refused(b), ErrorKind::BadRequestData);
        let mut b = base();
        b.as_object_mut().unwrap().remove("notification");
        assert_eq!(refused(b), ErrorKind::BadRequestData);
    }

    #[test]
    fn accept_and_receiver_info_are_checked() {
        assert_eq!(refused(endpoint(json!({"uri": "http://a/n", "accept": "text/plain"}))), ErrorKind::BadRequestData);
        assert_eq!(
            refused(endpoint(json!({"uri": "http://a/n", "receiverInfo": [{"key": "Bad Header", "value": "v"}]}))),
            ErrorKind::BadRequestData
        );
        assert_eq!(
            refused(endpoint(json!({"uri": "http://a/n", "receiverInfo": [{"key": "X-A", "value": "line\nbreak"}]}))),
            ErrorKind::BadRequestData
        );
        let s = parse(endpoint(json!({"uri": "http://a/n", "accept": "application/geo+json"})));
        assert_eq!(s.notification.endpoint.accept(), NotifyAccept::GeoJson);
    }
}

mod clause_5_8_2_update {
    use super::*;

    #[test]
    fn a_fragment_merges_member_by_member() {
        let s = parse(with(base(), "description", json!("old")));
        let later = now() + chrono::Duration::minutes(1);
        let frag = json!({"type": "Subscription", "notification": {"format": "keyValues"}, "description": null,
                          "watchedAttributes": ["speed"]});
        let p = s.patch(&frag, &ctx(), later).unwrap();
        assert_eq!(p.description, None);
        assert_eq!(p.notification.endpoint.uri, "http://localhost:1111/notify", "endpoint kept");
        assert_eq!(p.notification.format, Some(haidang_ngsi::entity::Format::KeyValues));
        assert_eq!(p.watched_attributes, Some(vec![format!("{TS}speed")]));
        assert_eq!(p.id, s.id);
        assert_eq!(p.created_at, s.created_at);
        assert_eq!(p.modified_at, Some(later));
    }

    #[test]
    fn removing_a_mandatory_member_or_breaking_a_rule_is_refused() {
        let s = parse(base());
        let cases = [
            json!({"type": "Subscription", "notification": {"format": "keyValues", "endpoint": null}}),
            json!({"notification": null}),
            json!({"entities": null}),
            json!({"q": "a>>"}),
            json!({"type": "Other"}),
            json!({"id": "urn:ngsi-ld:Subscription:other"}),
            json!({"expiresAt": "2020-01-01T00:00:00Z"}),
            json!({}),
        ];
        for frag in cases {
            let e = s.patch(&frag, &ctx(), now()).expect_err(&frag.to_string());
            assert_eq!(e.kind, ErrorKind::BadRequestData, "{frag}");
        }
    }

    #[test]
    fn a_future_expires_at_makes_an_expired_subscription_active_again() {
        let s = parse(with(base(), "expiresAt", json!("2026-01-01T00:00:10Z")));
        let later = now() + chrono::Duration::minutes(1);
        assert_eq!(s.status(later), Status::Expired);
        let p = s.patch(&json!({"expiresAt": "2030-01-01T00:00:00Z", "isActive": true}), &ctx(), later).unwrap();
        assert_eq!(p.status(later), Status::Active);
    }
}

mod clause_5_11_triggers {
    use super::*;

    fn sub(extra: Value) -> Subscription {
        let mut b = base();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        parse(b)
    }

    #[test]
    fn entity_type_id_and_id_pattern_select() {
        let a = building("urn:ngsi-ld:Building:A", json!({"name": {"type": "Property", "value": "a"}}));
        let v = Entity::parse(&json!({"id": "urn:ngsi-ld:Vehicle:V", "type": "Vehicle"}), &ctx(), BodyKind::Entity)
            .unwrap();
        let s = sub(json!({}));
        assert!(s.matches(None, Some(&a), &names(&["name"])));
        assert!(!s.matches(None, Some(&v), &BTreeSet::new()));
        let by_id = sub(json!({"entities": [{"type": "Building", "id": "urn:ngsi-ld:Building:B"}]}));
        assert!(!by_id.matches(None, Some(&a), &names(&["name"])));
        let by_pattern = sub(json!({"entities": [{"type": "Building,Vehicle", "idPattern": ":A$"}]}));
        assert!(by_pattern.matches(None, Some(&a), &names(&["name"])));
    }

    #[test]
    fn watched_attributes_narrow_the_changes_that_count() {
        let before = building(
            "urn:ngsi-ld:Building:A",
            json!({"name": {"type": "Property", "value": "a"},
                                                               "speed": {"type": "Property", "value": 1}}),
        );
        let mut after = before.clone();
        after.attrs.get_mut(&format!("{TS}name")).unwrap()[0].value = json!("b");
        let s = sub(json!({"watchedAttributes": ["speed"]}));
        assert!(!s.matches(Some(&before), Some(&after), &names(&["name"])));
        assert!(s.matches(Some(&before), Some(&after), &names(&["speed"])));
        // Without watchedAttributes any attribute counts.
        assert!(sub(json!({})).matches(Some(&before), Some(&after), &names(&["name"])));
    }

    #[test]
    fn q_and_geo_q_are_evaluated_on_the_new_state() {
        let low = building(
            "urn:ngsi-ld:Building:A",
            json!({"airQualityLevel": {"type": "Property", "value": 2},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [5.0, 5.0]}}}),
        );
        let mut high = low.clone();
        high.attrs.get_mut(&format!("{TS}airQualityLevel")).unwrap()[0].value = json!(4);
        let s = sub(json!({"q": "airQualityLevel>3"}));
        assert!(s.matches(Some(&low), Some(&high), &names(&["airQualityLevel"])));
        assert!(!s.matches(Some(&high), Some(&low), &names(&["airQualityLevel"])));
        let inside = sub(json!({"geoQ": {"geometry": "Polygon", "georel": "within",
                                         "coordinates": [[[0, 0], [0, 10], [10, 10], [10, 0], [0, 0]]]}}));
        assert!(inside.matches(Some(&low), Some(&high), &names(&["airQualityLevel"])));
        let far = sub(json!({"geoQ": {"geometry": "Point", "georel": "near;maxDistance==1000",
                                      "coordinates": [50.0, 50.0]}}));
        assert!(!far.matches(Some(&low), Some(&high), &names(&["airQualityLevel"])));
    }

    #[test]
    fn notification_trigger_decides_which_kinds_of_change_count() {
        let before = building("urn:ngsi-ld:Building:A", json!({"name": {"type": "Property", "value": "a"}}));
        let mut renamed = before.clone();
        renamed.attrs.get_mut(&format!("{TS}name")).unwrap()[0].value = json!("b");
        let mut without = before.clone();
        without.attrs.clear();
        let mut more = before.clone();
        more.attrs.insert(format!("{TS}speed"), vec![haidang_ngsi::Attribute::new(Default::default(), json!(3))]);
        let default = sub(json!({}));
        assert!(default.matches(None, Some(&before), &names(&["name"])), "creation is attributeCreated");
        assert!(default.matches(Some(&before), Some(&renamed), &names(&["name"])));
        assert!(default.matches(Some(&before), Some(&more), &names(&["speed"])));
        assert!(!default.matches(Some(&before), Some(&without), &names(&["name"])), "deletion is not by default");
        assert!(!default.matches(Some(&before), None, &names(&["name"])));

        let deleted = sub(json!({"notificationTrigger": ["attributeDeleted"]}));
        assert!(deleted.matches(Some(&before), Some(&without), &names(&["name"])));
        assert!(!deleted.matches(Some(&before), Some(&renamed), &names(&["name"])));
        let c = deleted.change_for(Some(&before), Some(&without), &names(&["name"]), now()).unwrap();
        assert_eq!(c.trigger, Trigger::AttributeDeleted);
        assert_eq!(c.deleted_attrs, vec![format!("{TS}name")]);

        let gone = sub(json!({"notificationTrigger": ["entityDeleted"]}));
        assert!(gone.matches(Some(&before), None, &names(&["name"])));
        assert!(!gone.matches(None, Some(&before), &names(&["name"])));
        let created = sub(json!({"notificationTrigger": ["entityCreated"]}));
        assert!(created.matches(None, Some(&before), &names(&["name"])));
        assert!(!created.matches(Some(&before), Some(&renamed), &names(&["name"])));
        let any = sub(json!({"notificationTrigger": ["entityUpdated"]}));
        assert!(any.matches(Some(&before), Some(&without), &names(&["name"])));
        assert!(any.matches(Some(&before), Some(&renamed), &names(&["name"])));
        assert!(!any.matches(None, Some(&before), &names(&["name"])));
    }
}

mod clause_5_2_14_notification {
    use super::*;

    fn entity() -> Entity {
        building(
            "urn:ngsi-ld:Building:A",
            json!({"name": {"type": "Property", "value": "Eiffel"},
                                                   "airQualityLevel": {"type": "Property", "value": 4}}),
        )
    }

    #[test]
    fn the_body_names_the_subscription_and_renders_data_per_format_and_attributes() {
        let mut b = base();
        b["notification"]["format"] = json!("keyValues");
        b["notification"]["attributes"] = json!(["airQualityLevel"]);
        let s = parse(b);
        let e = entity();
        let c = s.change_for(None, Some(&e), &names(&["name", "airQualityLevel"]), now()).unwrap();
        let back = haidang_ngsi::subscription::Change::from_stored(&c.to_stored()).unwrap();
        assert_eq!(back, c);
        let n = s.notification("urn:ngsi-ld:Notification:1", &[c], &ctx(), now());
        assert_eq!(n["type"], "Notification");
        assert_eq!(n["id"], "urn:ngsi-ld:Notification:1");
        assert_eq!(n["subscriptionId"], "urn:ngsi-ld:Subscription:s1");
        assert_eq!(n["notifiedAt"], "2026-01-01T00:00:00.000Z");
        assert_eq!(n["data"], json!([{"id": "urn:ngsi-ld:Building:A", "type": "Building", "airQualityLevel": 4}]));

        let normalized = parse(base());
        let c = normalized.change_for(None, Some(&e), &names(&["name"]), now()).unwrap();
        let n = normalized.notification("urn:x:n", &[c], &ctx(), now());
        assert_eq!(n["data"][0]["name"], json!({"type": "Property", "value": "Eiffel"}));
    }

    #[test]
    fn removed_attributes_and_entities_are_shown_with_the_null_and_previous_values() {
        let e = entity();
        let mut without = e.clone();
        without.attrs.remove(&format!("{TS}name"));
        let mut b = base();
        b["notificationTrigger"] = json!(["attributeDeleted", "entityDeleted"]);
        b["notification"]["format"] = json!("keyValues");
        let s = parse(b.clone());
        let c = s.change_for(Some(&e), Some(&without), &names(&["name"]), now()).unwrap();
        let n = s.notification("urn:x:n", &[c], &ctx(), now());
        assert_eq!(n["data"][0]["name"], "urn:ngsi-ld:null");
        assert_eq!(n["data"][0]["airQualityLevel"], 4);

        b["notification"]["format"] = json!("normalized");
        b["notification"]["showChanges"] = json!(true);
        let s = parse(b);
        let c = s.change_for(Some(&e), None, &names(&["name", "airQualityLevel"]), now()).unwrap();
        let n = s.notification("urn:x:n", &[c], &ctx(), now());
        let d = &n["data"][0];
        assert_eq!(d["deletedAt"], "2026-01-01T00:00:00.000Z");
        assert_eq!(d["name"], json!({"type": "Property", "value": "urn:ngsi-ld:null", "previousValue": "Eiffel"}));
    }

    #[test]
    fn show_changes_adds_the_previous_value() {
        let e = entity();
        let mut after = e.clone();
        after.attrs.get_mut(&format!("{TS}airQualityLevel")).unwrap()[0].value = json!(5);
        let mut b = base();
        b["notification"]["showChanges"] = json!(true);
        let s = parse(b);
        let c = s.change_for(Some(&e), Some(&after), &names(&["airQualityLevel"]), now()).unwrap();
        let n = s.notification("urn:x:n", &[c], &ctx(), now());
        assert_eq!(n["data"][0]["airQualityLevel"], json!({"type": "Property", "value": 5, "previousValue": 4}));
        assert!(n["data"][0]["name"].get("previousValue").is_none());
    }

    #[test]
    fn geo_json_accept_sends_a_feature_collection() {
        let mut b = base();
        b["notification"]["endpoint"]["accept"] = json!("application/geo+json");
        let s = parse(b);
        let e = building(
            "urn:ngsi-ld:Building:A",
            json!({
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1.0, 2.0]}}}),
        );
        let c = s.change_for(None, Some(&e), &BTreeSet::new(), now()).unwrap();
        let n = s.notification("urn:x:n", &[c], &ctx(), now());
        assert_eq!(n["data"]["type"], "FeatureCollection");
        assert_eq!(n["data"]["features"][0]["geometry"]["type"], "Point");
    }
}
