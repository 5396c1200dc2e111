//! Clauses 6.10–6.11 (subscriptions), 5.8 (their operations) and 5.11 (notification
//! behaviour), through HTTP, with a local receiver of the notifications.
//!
//! Every test subscribes to an entity type of its own, so the tests running at the same time
//! on the shared server do not see each other's notifications.

use std::time::{Duration, Instant};

use super::common::*;
use super::receiver::Receiver;
use reqwest::Client;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(15);

fn unique_type() -> String {
    format!("Station{}", uid("T").replace([':', '-', '.'], ""))
}

fn station(id: &str, ty: &str, (lon, lat): (f64, f64), pm25: f64) -> Value {
    json!({
        "id": id,
        "type": ty,
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        "pm25": {"type": "Property", "value": pm25, "unitCode": "GQ"},
        "name": {"type": "Property", "value": "Trạm"},
    })
}

fn subscription(ty: &str, uri: &str, notification: Value) -> Value {
    let mut n = notification;
    n["endpoint"]["uri"] = json!(uri);
    json!({"type": "Subscription", "entities": [{"type": ty}], "notification": n})
}

/// Creates a subscription; returns its id.
async fn subscribe(client: &Client, body: &Value) -> String {
    let res = post_json(client, "/subscriptions", body).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    location.strip_prefix("/ngsi-ld/v1/subscriptions/").expect("a subscription location").to_owned()
}

async fn patch_json(client: &Client, path: &str, body: &Value) -> reqwest::Response {
    client.patch(url(path)).header("content-type", "application/json").body(body.to_string()).send().await.unwrap()
}

async fn set_pm25(id: &str, value: f64) {
    let res =
        patch_json(&admin(), &format!("/entities/{id}/attrs"), &json!({"pm25": {"type": "Property", "value": value}}))
            .await;
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap());
}

async fn retrieve(client: &Client, id: &str) -> Value {
    let res = get(client, &format!("/subscriptions/{id}")).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The subscription once `check` holds of it: the notifier records a delivery just after the
/// receiver answered, so the counters may lag the receiver by a moment.
async fn retrieve_when(id: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let s = retrieve(&admin(), id).await;
        if check(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "{what}: not within {WAIT:?}: {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn pm25s(entities: &[Value]) -> Vec<f64> {
    entities.iter().map(|e| e["pm25"].as_f64().unwrap_or(f64::NAN)).collect()
}

#[tokio::test]
async fn create_retrieve_query_update_and_delete() {
    let ty = unique_type();
    let id = uid("Subscription");
    let mut body = subscription(
        &ty,
        "http://127.0.0.1:9/notify",
        json!({"format": "keyValues",
        "endpoint": {"accept": "application/json"}}),
    );
    body["id"] = json!(id);
    body["subscriptionName"] = json!("pm25");
    body["watchedAttributes"] = json!(["pm25"]);
    body["q"] = json!("pm25>50");
    let res = post_json(&admin(), "/subscriptions", &body).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["location"], format!("/ngsi-ld/v1/subscriptions/{id}").as_str());
    ngsi_problem(post_json(&admin(), "/subscriptions", &body).await, 409, "AlreadyExists").await;

    let res = get(&admin(), &format!("/subscriptions/{id}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert!(res.headers()["link"].to_str().unwrap().contains(CORE));
    let s: Value = res.json().await.unwrap();
    assert_eq!(s["id"], id.as_str());
    assert_eq!(s["type"], "Subscription");
    assert_eq!(s["subscriptionName"], "pm25");
    assert_eq!(s["entities"], json!([{"type": ty}]));
    assert_eq!(s["watchedAttributes"], json!(["pm25"]));
    assert_eq!(s["q"], "pm25>50");
    assert_eq!(s["status"], "active");
    assert_eq!(s["notificationTrigger"], json!(["attributeCreated", "attributeUpdated"]));
    assert_eq!(s["notification"]["format"], "keyValues");
    assert_eq!(s["notification"]["endpoint"]["uri"], "http://127.0.0.1:9/notify");
    assert_eq!(s["notification"]["timesSent"], 0);
    let res = admin().get(url(&format!("/subscriptions/{id}"))).header("accept", "application/ld+json").send().await;
    let res = res.unwrap();
    assert_eq!(res.headers()["content-type"], "application/ld+json");
    let ld: Value = res.json().await.unwrap();
    assert!(ld["@context"].to_string().contains(CORE), "{ld}");
    let sys = retrieve(&admin(), &format!("{id}?options=sysAttrs")).await;
    assert!(sys["createdAt"].is_string(), "{sys}");

    // Without an id the broker names it.
    let other = subscribe(&admin(), &subscription(&ty, "http://127.0.0.1:9/n", json!({"endpoint": {}}))).await;
    assert!(other.starts_with("urn:ngsi-ld:Subscription:"), "{other}");
    let res = get(&admin(), "/subscriptions?limit=1000&count=true").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["ngsild-results-count"].to_str().unwrap().parse::<u64>().unwrap() >= 2);
    let all: Vec<Value> = res.json().await.unwrap();
    assert!(all.iter().any(|s| s["id"] == id.as_str()) && all.iter().any(|s| s["id"] == other.as_str()));
    let one: Vec<Value> = get(&admin(), "/subscriptions?limit=1").await.json().await.unwrap();
    assert_eq!(one.len(), 1);

    // Update: members merged, the result checked.
    let res = patch_json(
        &admin(),
        &format!("/subscriptions/{id}"),
        &json!({"description": "changed", "notification": {"format": "normalized"}}),
    )
    .await;
    assert_eq!(res.status(), 204);
    let s = retrieve(&admin(), &id).await;
    assert_eq!(s["description"], "changed");
    assert_eq!(s["notification"]["format"], "normalized");
    assert_eq!(s["notification"]["endpoint"]["uri"], "http://127.0.0.1:9/notify");
    let res = patch_json(&admin(), &format!("/subscriptions/{id}"), &json!({"notification": {"endpoint": null}})).await;
    ngsi_problem(res, 400, "BadRequestData").await;
    let res = patch_json(&admin(), &format!("/subscriptions/{id}"), &json!({"isActive": false})).await;
    assert_eq!(res.status(), 204);
    assert_eq!(retrieve(&admin(), &id).await["status"], "paused");

    let res = admin().delete(url(&format!("/subscriptions/{id}"))).send().await.unwrap();
    assert_eq!(res.status(), 204);
    ngsi_problem(get(&admin(), &format!("/subscriptions/{id}")).await, 404, "ResourceNotFound").await;
    let res = admin().delete(url(&format!("/subscriptions/{id}"))).send().await.unwrap();
    ngsi_problem(res, 404, "ResourceNotFound").await;
    let res = patch_json(&admin(), &format!("/subscriptions/{id}"), &json!({"description": "x"})).await;
    ngsi_problem(res, 404, "ResourceNotFound").await;
    assert_eq!(admin().delete(url(&format!("/subscriptions/{other}"))).send().await.unwrap().status(), 204);

    // Anonymous callers may neither read nor subscribe.
    let anon = Client::new();
    assert_eq!(get(&anon, "/subscriptions").await.status(), 401);
    assert_eq!(post_json(&anon, "/subscriptions", &body).await.status(), 401);
}

#[tokio::test]
async fn invalid_subscriptions_get_the_specified_errors() {
    let ty = unique_type();
    let good = subscription(&ty, "http://127.0.0.1:9/notify", json!({"endpoint": {}}));
    let with = |key: &str, value: Value| {
        let mut b = good.clone();
        b[key] = value;
        b
    };
    let mut no_selection = good.clone();
    no_selection.as_object_mut().unwrap().remove("entities");
    let mut no_type = good.clone();
    no_type.as_object_mut().unwrap().remove("type");
    let mut bad_uri = good.clone();
    bad_uri["notification"]["endpoint"]["uri"] = json!("not a url");
    let mut ftp = good.clone();
    ftp["notification"]["endpoint"]["uri"] = json!("ftp://example.org/notify");
    for (what, body) in [
        ("bad q", with("q", json!("pm25>>1"))),
        ("bad geoQ", with("geoQ", json!({"geometry": "Point", "coordinates": [1, 2], "georel": "nearby"}))),
        ("geoQ without coordinates", with("geoQ", json!({"geometry": "Point", "georel": "within"}))),
        ("endpoint not a URL", bad_uri),
        ("endpoint not http", ftp),
        ("no entities nor watchedAttributes", no_selection),
        ("no type", no_type),
        ("negative throttling", with("throttling", json!(-2))),
        ("expiresAt in the past", with("expiresAt", json!("2020-01-01T00:00:00Z"))),
        ("id not a URI", with("id", json!("not a uri"))),
        ("empty", json!({})),
    ] {
        let res = post_json(&admin(), "/subscriptions", &body).await;
        assert_eq!(res.status(), 400, "{what}");
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["type"], "https://uri.etsi.org/ngsi-ld/errors/BadRequestData", "{what}: {p}");
    }
    let res = admin()
        .post(url("/subscriptions"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    ngsi_problem(res, 400, "InvalidRequest").await;
    ngsi_problem(get(&admin(), "/subscriptions/urn:ngsi-ld:Subscription:none").await, 404, "ResourceNotFound").await;
    ngsi_problem(get(&admin(), "/subscriptions/not%20a%20uri").await, 400, "BadRequestData").await;
}

#[tokio::test]
async fn notifications_carry_the_format_media_type_context_and_headers_asked_for() {
    let ty = unique_type();
    let (kv, ld, tenant_rx) = (Receiver::start().await, Receiver::start().await, Receiver::start().await);
    let kv_sub = subscribe(
        &admin(),
        &subscription(
            &ty,
            &kv.url,
            json!({"format": "keyValues",
        "endpoint": {"accept": "application/json", "receiverInfo": [{"key": "X-Token", "value": "abc"}]}}),
        ),
    )
    .await;
    let ld_sub = subscribe(
        &admin(),
        &subscription(
            &ty,
            &ld.url,
            json!({"format": "normalized",
        "attributes": ["pm25"], "endpoint": {"accept": "application/ld+json"}}),
        ),
    )
    .await;

    let id = uid(&ty);
    assert_eq!(post_json(&admin(), "/entities", &station(&id, &ty, centre("21583").await, 12.5)).await.status(), 201);

    let got = kv.wait_for(1, WAIT).await;
    let n = &got[0];
    assert_eq!(n.body["type"], "Notification");
    assert!(n.body["id"].as_str().unwrap().starts_with("urn:ngsi-ld:Notification:"), "{}", n.body);
    assert_eq!(n.body["subscriptionId"], kv_sub.as_str());
    assert!(n.body["notifiedAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(n.body["data"][0]["id"], id.as_str());
    assert_eq!(n.body["data"][0]["type"], ty.as_str());
    assert_eq!(n.body["data"][0]["pm25"], 12.5);
    assert_eq!(n.body["data"][0]["name"], "Trạm");
    assert_eq!(n.header("content-type"), Some("application/json"));
    assert!(n.header("link").unwrap().contains(CORE), "{:?}", n.headers);
    assert_eq!(n.header("x-token"), Some("abc"));
    assert!(n.body.get("@context").is_none());

    let got = ld.wait_for(1, WAIT).await;
    let n = &got[0];
    assert_eq!(n.body["subscriptionId"], ld_sub.as_str());
    assert_eq!(n.header("content-type"), Some("application/ld+json"));
    assert!(n.header("link").is_none());
    assert!(n.body["@context"].to_string().contains(CORE), "{}", n.body);
    assert_eq!(n.body["data"][0]["pm25"], json!({"type": "Property", "value": 12.5, "unitCode": "GQ"}));
    assert!(n.body["data"][0].get("name").is_none(), "only the attributes asked for: {}", n.body);

    // The counters show in the subscription.
    let s = retrieve_when(&kv_sub, "timesSent 1", |s| s["notification"]["timesSent"] == 1).await;
    assert_eq!(s["notification"]["status"], "ok");
    assert!(s["notification"]["lastSuccess"].is_string() && s["notification"]["lastNotification"].is_string());

    // Another tenant's notifications say so.
    let tenant = format!("subs{}", uid("T").replace([':', '-', '.'], ""));
    let res = admin()
        .post(url("/subscriptions"))
        .header("content-type", "application/json")
        .header("NGSILD-Tenant", &tenant)
        .body(subscription(&ty, &tenant_rx.url, json!({"endpoint": {}})).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = admin()
        .post(url("/entities"))
        .header("content-type", "application/json")
        .header("NGSILD-Tenant", &tenant)
        .body(station(&uid(&ty), &ty, centre("21583").await, 1.0).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let got = tenant_rx.wait_for(1, WAIT).await;
    assert_eq!(got[0].header("ngsild-tenant"), Some(tenant.as_str()));
    assert_eq!(kv.received().len(), 1, "the default tenant's subscription saw nothing of the other tenant");
}

#[tokio::test]
async fn watched_attributes_q_and_geo_q_decide_what_is_notified() {
    let ty = unique_type();
    let rx = Receiver::start().await;
    let (lon, lat) = centre("21583").await;
    let mut body = subscription(&ty, &rx.url, json!({"format": "keyValues", "endpoint": {}}));
    body["watchedAttributes"] = json!(["pm25"]);
    body["q"] = json!("pm25>50");
    body["geoQ"] = json!({"geometry": "Point", "coordinates": [lon, lat], "georel": "near;maxDistance==3000"});
    subscribe(&admin(), &body).await;

    let near = uid(&ty);
    assert_eq!(post_json(&admin(), "/entities", &station(&near, &ty, (lon, lat), 10.0)).await.status(), 201);
    let res =
        patch_json(&admin(), &format!("/entities/{near}/attrs"), &json!({"name": {"type": "Property", "value": "x"}}))
            .await;
    assert_eq!(res.status(), 204);
    set_pm25(&near, 80.0).await;
    let far = uid(&ty);
    assert_eq!(post_json(&admin(), "/entities", &station(&far, &ty, centre("23575").await, 90.0)).await.status(), 201);
    set_pm25(&near, 20.0).await;
    set_pm25(&near, 99.0).await;

    // A subscription's notifications arrive in order: anything wrongly notified above would
    // arrive before the last one.
    rx.wait_until(WAIT, "pm25 99", |got| pm25s(&entities_of(got)).contains(&99.0)).await;
    let entities = rx.entities();
    assert_eq!(pm25s(&entities), vec![80.0, 99.0], "{entities:#?}");
    assert!(entities.iter().all(|e| e["id"] == near.as_str()));
}

fn entities_of(got: &[super::receiver::Received]) -> Vec<Value> {
    got.iter().flat_map(|r| r.body["data"].as_array().cloned().unwrap_or_default()).collect()
}

#[tokio::test]
async fn deletions_are_notified_when_the_trigger_asks_for_them() {
    let ty = unique_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url, json!({"format": "keyValues", "endpoint": {}}));
    body["notificationTrigger"] = json!(["attributeDeleted", "entityDeleted"]);
    subscribe(&admin(), &body).await;
    let id = uid(&ty);
    assert_eq!(post_json(&admin(), "/entities", &station(&id, &ty, centre("21583").await, 5.0)).await.status(), 201);
    set_pm25(&id, 6.0).await;
    assert_eq!(admin().delete(url(&format!("/entities/{id}/attrs/name"))).send().await.unwrap().status(), 204);
    assert_eq!(admin().delete(url(&format!("/entities/{id}"))).send().await.unwrap().status(), 204);
    let got = rx.wait_until(WAIT, "the deletion", |got| entities_of(got).len() >= 2).await;
    let entities = entities_of(&got);
    assert_eq!(entities.len(), 2, "creation and update are not asked for: {entities:#?}");
    assert_eq!(entities[0]["name"], "urn:ngsi-ld:null");
    assert_eq!(entities[0]["pm25"], 6.0);
    assert_eq!(entities[1]["id"], id.as_str());
    assert!(entities[1]["deletedAt"].is_string(), "{:#?}", entities[1]);
}

#[tokio::test]
async fn throttling_spaces_notifications_and_loses_none() {
    let ty = unique_type();
    let rx = Receiver::start().await;
    let mut body = subscription(&ty, &rx.url, json!({"format": "keyValues", "endpoint": {}}));
    body["throttling"] = json!(2);
    subscribe(&admin(), &body).await;
    let id = uid(&ty);
    assert_eq!(post_json(&admin(), "/entities", &station(&id, &ty, centre("21583").await, 1.0)).await.status(), 201);
    rx.wait_for(1, WAIT).await;
    set_pm25(&id, 2.0).await;
    set_pm25(&id, 3.0).await;
    let got = rx.wait_until(WAIT, "pm25 3", |got| pm25s(&entities_of(got)).contains(&3.0)).await;
    assert_eq!(pm25s(&entities_of(&got)), vec![1.0, 2.0, 3.0]);
    for pair in got.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(1900), "notifications {gap:?} apart with throttling 2 s");
    }
    assert_eq!(got.len(), 2, "what waited was sent together");
}

#[tokio::test]
async fn expired_and_paused_subscriptions_do_not_notify() {
    let ty = unique_type();
    let (quiet, live) = (Receiver::start().await, Receiver::start().await);
    let expires =
        (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut expiring = subscription(&ty, &quiet.url, json!({"endpoint": {}}));
    expiring["expiresAt"] = json!(expires);
    let expiring = subscribe(&admin(), &expiring).await;
    let mut paused = subscription(&ty, &quiet.url, json!({"endpoint": {}}));
    paused["isActive"] = json!(false);
    let paused = subscribe(&admin(), &paused).await;
    assert_eq!(retrieve(&admin(), &paused).await["status"], "paused");
    subscribe(&admin(), &subscription(&ty, &live.url, json!({"endpoint": {}}))).await;
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(retrieve(&admin(), &expiring).await["status"], "expired");

    let id = uid(&ty);
    assert_eq!(post_json(&admin(), "/entities", &station(&id, &ty, centre("21583").await, 1.0)).await.status(), 201);
    live.wait_for(1, WAIT).await;
    // Notifications of one change are queued together and delivered concurrently.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(quiet.attempts(), 0, "an expired or paused subscription notified");

    let res = patch_json(&admin(), &format!("/subscriptions/{paused}"), &json!({"isActive": true})).await;
    assert_eq!(res.status(), 204);
    set_pm25(&id, 2.0).await;
    let got = quiet.wait_for(1, WAIT).await;
    assert_eq!(got[0].body["subscriptionId"], paused.as_str());
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_the_notification_later_after_back_off() {
    let ty = unique_type();
    let rx = Receiver::start().await;
    rx.answer(503);
    let sub = subscribe(&admin(), &subscription(&ty, &rx.url, json!({"format": "keyValues", "endpoint": {}}))).await;
    let id = uid(&ty);
    assert_eq!(post_json(&admin(), "/entities", &station(&id, &ty, centre("21583").await, 7.0)).await.status(), 201);
    rx.wait_for_attempts(2, WAIT).await;
    let times = rx.attempt_times();
    assert!(times[1] - times[0] >= Duration::from_millis(700), "retried after {:?}", times[1] - times[0]);
    let s = retrieve_when(&sub, "a failure", |s| s["notification"]["timesFailed"].as_u64().unwrap_or(0) >= 1).await;
    assert_eq!(s["notification"]["status"], "failed");
    assert!(s["notification"]["lastFailure"].is_string());
    assert_eq!(s["status"], "active", "failures do not end a subscription");

    let up = Instant::now();
    rx.answer(200);
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(pm25s(&entities_of(&got)), vec![7.0]);
    eprintln!("delivered {:?} after the receiver came back", got[0].at - up);
    let s = retrieve_when(&sub, "timesSent 1", |s| s["notification"]["timesSent"] == 1).await;
    assert_eq!(s["notification"]["status"], "ok");
}

#[tokio::test]
async fn a_commune_sees_and_is_notified_of_its_own_only() {
    let a = unit_token("21583").await; // Phường Quy Nhơn
    let b = unit_token("23575").await; // Phường Pleiku
    let ty = unique_type();
    let rx = Receiver::start().await;
    let sub = subscribe(&a, &subscription(&ty, &rx.url, json!({"format": "keyValues", "endpoint": {}}))).await;
    ngsi_problem(get(&b, &format!("/subscriptions/{sub}")).await, 404, "ResourceNotFound").await;
    let listed: Vec<Value> = get(&b, "/subscriptions?limit=1000").await.json().await.unwrap();
    assert!(listed.iter().all(|s| s["id"] != sub.as_str()));
    let res = patch_json(&b, &format!("/subscriptions/{sub}"), &json!({"description": "mine now"})).await;
    ngsi_problem(res, 404, "ResourceNotFound").await;
    ngsi_problem(b.delete(url(&format!("/subscriptions/{sub}"))).send().await.unwrap(), 404, "ResourceNotFound").await;
    assert_eq!(get(&a, &format!("/subscriptions/{sub}")).await.status(), 200);
    assert_eq!(get(&admin(), &format!("/subscriptions/{sub}")).await.status(), 200);
    let listed: Vec<Value> = get(&a, "/subscriptions?limit=1000").await.json().await.unwrap();
    assert!(listed.iter().any(|s| s["id"] == sub.as_str()));

    // An entity in B's commune is not notified to A's subscription; one in A's is.
    let in_b = uid(&ty);
    assert_eq!(post_json(&admin(), "/entities", &station(&in_b, &ty, centre("23575").await, 1.0)).await.status(), 201);
    let in_a = uid(&ty);
    assert_eq!(post_json(&admin(), "/entities", &station(&in_a, &ty, centre("21583").await, 2.0)).await.status(), 201);
    rx.wait_for(1, WAIT).await;
    let ids: Vec<Value> = rx.entities().iter().map(|e| e["id"].clone()).collect();
    assert_eq!(ids, vec![json!(in_a)]);
}
