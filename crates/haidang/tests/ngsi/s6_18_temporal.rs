//! Clauses 6.18–6.22 (and 4.5.7–4.5.9, 4.5.19, 4.11): the temporal evolution of entities.

use super::common::*;
use crate::support::login;
use reqwest::Response;
use serde_json::{Value, json};

/// A type of this test's own, so that queries by type see only its entities.
fn own_type(name: &str) -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{name}{t}")
}

/// An entity in a place with pm25 observed at the given times (2026-11-24, UTC).
fn temporal(id: &str, ty: &str, (lon, lat): (f64, f64), pm25: &[(f64, &str)]) -> Value {
    json!({
        "id": id,
        "type": ty,
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        "pm25": pm25.iter().map(|(v, at)| json!({
            "type": "Property", "value": v, "unitCode": "GQ", "observedAt": format!("2026-11-24T{at}:00Z"),
        })).collect::<Vec<_>>(),
    })
}

async fn json_of(res: Response) -> Value {
    assert!(res.status().is_success(), "{} {}", res.status(), res.url());
    res.json().await.unwrap()
}

fn values(attr: &Value) -> Vec<f64> {
    attr.as_array()
        .unwrap_or_else(|| panic!("not an array: {attr}"))
        .iter()
        .map(|i| i["value"].as_f64().unwrap())
        .collect()
}

#[tokio::test]
async fn temporal_entity_is_created_then_read_with_every_timerel_and_last_n() {
    let id = uid("AirQualityObserved");
    let centre = centre("21583").await;
    let body = temporal(&id, "AirQualityObserved", centre, &[(12.0, "09:00"), (10.0, "08:00"), (14.0, "10:00")]);
    let res = post_json(&admin(), "/temporal/entities", &body).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["location"].to_str().unwrap(), format!("/ngsi-ld/v1/temporal/entities/{id}"));
    // The current state is the latest observation.
    let now: Value = json_of(get(&admin(), &format!("/entities/{id}")).await).await;
    assert_eq!(now["pm25"]["value"], 14.0);
    // An ordinary update is history too.
    let patch = json!({"pm25": {"type": "Property", "value": 20.0, "observedAt": "2026-11-24T11:00:00Z"}});
    let res = admin()
        .patch(url(&format!("/entities/{id}/attrs")))
        .header("content-type", "application/json")
        .body(patch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    let all = json_of(get(&admin(), &format!("/temporal/entities/{id}")).await).await;
    assert_eq!(all["id"], id.as_str());
    assert_eq!(all["type"], "AirQualityObserved");
    assert_eq!(values(&all["pm25"]), vec![10.0, 12.0, 14.0, 20.0]);
    let first = &all["pm25"][0];
    assert_eq!((first["type"].as_str(), first["unitCode"].as_str()), (Some("Property"), Some("GQ")));
    assert!(first["observedAt"].as_str().unwrap().starts_with("2026-11-24T08:00:00"));
    assert!(first["instanceId"].as_str().unwrap().starts_with("urn:"), "{first}");
    assert!(all["location"].is_array(), "every attribute is an array of instances");

    let at = |q: &str| format!("/temporal/entities/{id}?attrs=pm25&{q}");
    let pm = |v: Value| values(&v["pm25"]);
    assert_eq!(
        pm(json_of(get(&admin(), &at("timerel=before&timeAt=2026-11-24T09:30:00Z")).await).await),
        vec![10.0, 12.0]
    );
    assert_eq!(
        pm(json_of(get(&admin(), &at("timerel=after&timeAt=2026-11-24T09:30:00Z")).await).await),
        vec![14.0, 20.0]
    );
    let between = at("timerel=between&timeAt=2026-11-24T08:30:00Z&endTimeAt=2026-11-24T10:30:00Z");
    let v = json_of(get(&admin(), &between).await).await;
    assert_eq!(pm(v.clone()), vec![12.0, 14.0]);
    assert!(v.get("location").is_none(), "attrs=pm25 leaves location out: {v}");
    assert_eq!(pm(json_of(get(&admin(), &at("lastN=2")).await).await), vec![14.0, 20.0]);
    // The time the instances were recorded: all of them are after 2020.
    let recorded = at("timeproperty=modifiedAt&timerel=after&timeAt=2020-01-01T00:00:00Z&options=sysAttrs");
    let v = json_of(get(&admin(), &recorded).await).await;
    assert_eq!(pm(v.clone()).len(), 4);
    assert!(v["pm25"][0]["createdAt"].is_string() && v["pm25"][0]["modifiedAt"].is_string(), "{v}");

    // Simplified: [value, time] pairs.
    let simple = json_of(get(&admin(), &at("options=temporalValues&lastN=2")).await).await;
    assert_eq!(simple["pm25"]["type"], "Property");
    assert_eq!(simple["pm25"]["values"], json!([[14.0, "2026-11-24T10:00:00Z"], [20.0, "2026-11-24T11:00:00Z"]]));
    let same = json_of(get(&admin(), &at("format=temporalValues&lastN=2")).await).await;
    assert_eq!(same, simple);

    // JSON-LD: the context in the body.
    let res = admin().get(url(&at("lastN=1"))).header("accept", "application/ld+json").send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/ld+json");
    assert!(json_of(res).await["@context"].to_string().contains(CORE));

    ngsi_problem(
        get(&admin(), &format!("/temporal/entities/{id}?attrs=nothingLikeThis")).await,
        404,
        "ResourceNotFound",
    )
    .await;
}

#[tokio::test]
async fn aggregated_values_per_hour_and_per_day() {
    let id = uid("AirQualityObserved");
    let samples = [(10.0, "08:00"), (20.0, "08:30"), (30.0, "09:10"), (50.0, "11:00")];
    let res = post_json(
        &admin(),
        "/temporal/entities",
        &temporal(&id, "AirQualityObserved", centre("21583").await, &samples),
    )
    .await;
    assert_eq!(res.status(), 201);
    let path = |q: &str| format!("/temporal/entities/{id}?attrs=pm25&options=aggregatedValues&{q}");
    let v = json_of(get(&admin(), &path("aggrMethods=avg,min,max,sum,totalCount&aggrPeriodDuration=PT1H")).await).await;
    let pm = &v["pm25"];
    assert_eq!(pm["type"], "Property");
    // Periods start at the first instance; empty hours are left out.
    assert_eq!(
        pm["avg"],
        json!([
            [15.0, "2026-11-24T08:00:00Z", "2026-11-24T09:00:00Z"],
            [30.0, "2026-11-24T09:00:00Z", "2026-11-24T10:00:00Z"],
            [50.0, "2026-11-24T11:00:00Z", "2026-11-24T12:00:00Z"],
        ])
    );
    assert_eq!(pm["min"][0][0], 10.0);
    assert_eq!(pm["max"][0][0], 20.0);
    assert_eq!(pm["sum"][0][0], 30.0);
    assert_eq!(pm["totalCount"][0][0], 2);
    let day = json_of(get(&admin(), &path("aggrMethods=avg,totalCount&aggrPeriodDuration=P1D")).await).await;
    assert_eq!(day["pm25"]["avg"], json!([[27.5, "2026-11-24T08:00:00Z", "2026-11-25T08:00:00Z"]]));
    assert_eq!(day["pm25"]["totalCount"][0][0], 4);
    // From timeAt, periods start there; the whole interval when no duration is given.
    let whole = json_of(
        get(
            &admin(),
            &path("aggrMethods=max&timerel=between&timeAt=2026-11-24T08:15:00Z&endTimeAt=2026-11-24T10:00:00Z"),
        )
        .await,
    )
    .await;
    assert_eq!(whole["pm25"]["max"], json!([[30.0, "2026-11-24T08:15:00Z", "2026-11-24T10:00:00Z"]]));
    ngsi_problem(get(&admin(), &path("aggrPeriodDuration=PT1H")).await, 400, "BadRequestData").await;
    ngsi_problem(get(&admin(), &path("aggrMethods=median")).await, 400, "BadRequestData").await;
    ngsi_problem(get(&admin(), &path("aggrMethods=avg&aggrPeriodDuration=hourly")).await, 400, "BadRequestData").await;
}

#[tokio::test]
async fn query_by_type_over_several_entities_get_and_post() {
    let ty = own_type("Kiosk");
    let (a, b) = (uid(&ty), uid(&ty));
    let place = centre("21583").await;
    for (id, base) in [(&a, 1.0), (&b, 100.0)] {
        let body = temporal(id, &ty, place, &[(base, "08:00"), (base + 1.0, "09:00"), (base + 2.0, "10:00")]);
        assert_eq!(post_json(&admin(), "/temporal/entities", &body).await.status(), 201);
    }
    let q = format!("/temporal/entities?type={ty}&timerel=after&timeAt=2026-11-24T08:30:00Z&count=true");
    let res = get(&admin(), &q).await;
    assert_eq!(res.headers()["ngsild-results-count"], "2");
    let list: Vec<Value> = json_of(res).await.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    let by_id = |id: &str| list.iter().find(|e| e["id"] == id).unwrap().clone();
    assert_eq!(values(&by_id(&a)["pm25"]), vec![2.0, 3.0]);
    assert_eq!(values(&by_id(&b)["pm25"]), vec![101.0, 102.0]);
    // q selects on the current state; limit pages the entities.
    let only_b: Vec<Value> = json_of(get(&admin(), &format!("/temporal/entities?type={ty}&q=pm25>50")).await)
        .await
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(only_b.iter().map(|e| e["id"].as_str().unwrap()).collect::<Vec<_>>(), vec![b.as_str()]);
    let one: Vec<Value> = json_of(get(&admin(), &format!("/temporal/entities?type={ty}&limit=1")).await)
        .await
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(one.len(), 1);

    let body = json!({
        "type": "Query",
        "entities": [{"type": ty}],
        "attrs": ["pm25"],
        "temporalQ": {"timerel": "before", "timeAt": "2026-11-24T09:30:00Z", "lastN": 1},
    });
    let list: Vec<Value> =
        json_of(post_json(&admin(), "/temporal/entityOperations/query", &body).await).await.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    for e in &list {
        assert_eq!(e["pm25"].as_array().unwrap().len(), 1, "lastN=1 before 09:30: the 09:00 one: {e}");
        assert!(e["pm25"][0]["observedAt"].as_str().unwrap().starts_with("2026-11-24T09:00:00"));
    }
}

#[tokio::test]
async fn malformed_temporal_queries_get_the_specified_errors() {
    let id = uid("AirQualityObserved");
    let body = temporal(&id, "AirQualityObserved", centre("21583").await, &[(1.0, "08:00")]);
    assert_eq!(post_json(&admin(), "/temporal/entities", &body).await.status(), 201);
    let one = |q: &str| format!("/temporal/entities/{id}?{q}");
    for q in [
        "timerel=after",
        "timeAt=2026-11-24T08:00:00Z",
        "timerel=between&timeAt=2026-11-24T08:00:00Z",
        "timerel=between&timeAt=2026-11-24T08:00:00Z&endTimeAt=2026-11-24T07:00:00Z",
        "timerel=around&timeAt=2026-11-24T08:00:00Z",
        "timerel=after&timeAt=tomorrow",
        "lastN=0",
        "lastN=many",
        "timeproperty=seenAt",
        "options=keyValues",
        "format=geojson",
    ] {
        ngsi_problem(get(&admin(), &one(q)).await, 400, "BadRequestData").await;
    }
    // Queries must say which entities.
    let res = get(&admin(), "/temporal/entities?timerel=after&timeAt=2026-11-24T08:00:00Z").await;
    ngsi_problem(res, 400, "BadRequestData").await;
    ngsi_problem(get(&admin(), "/temporal/entities/urn:ngsi-ld:X:none").await, 404, "ResourceNotFound").await;
    ngsi_problem(get(&admin(), "/temporal/entities/not%20a%20uri").await, 400, "BadRequestData").await;
    let res = admin().get(url(&one(""))).header("accept", "text/csv").send().await.unwrap();
    assert_eq!(res.status(), 406);
    // A temporal body must hold instances.
    let empty = json!({"id": uid("X"), "type": "X", "pm25": []});
    ngsi_problem(post_json(&admin(), "/temporal/entities", &empty).await, 400, "BadRequestData").await;
}

#[tokio::test]
async fn scope_a_commune_sees_its_own_history_and_anyone_sees_open_types() {
    let ty = own_type("NoiseLevel");
    let a = unit_token("21583").await; // Phường Quy Nhơn
    let b = unit_token("23575").await; // Phường Pleiku
    let id = uid(&ty);
    let body = temporal(&id, &ty, centre("21583").await, &[(55.0, "08:00"), (60.0, "09:00")]);
    assert_eq!(post_json(&a, "/temporal/entities", &body).await.status(), 201);
    // Writing into another commune's place is refused like any write.
    let elsewhere = temporal(&uid(&ty), &ty, centre("23575").await, &[(1.0, "08:00")]);
    assert_eq!(post_json(&a, "/temporal/entities", &elsewhere).await.status(), 403);

    assert_eq!(values(&json_of(get(&a, &format!("/temporal/entities/{id}")).await).await["pm25"]), vec![55.0, 60.0]);
    ngsi_problem(get(&b, &format!("/temporal/entities/{id}")).await, 404, "ResourceNotFound").await;
    let seen: Value = json_of(get(&b, &format!("/temporal/entities?type={ty}")).await).await;
    assert_eq!(seen, json!([]));
    ngsi_problem(b.delete(url(&format!("/temporal/entities/{id}"))).send().await.unwrap(), 404, "ResourceNotFound")
        .await;

    // Anonymous: nothing until the type is opened.
    let anon = reqwest::Client::new();
    ngsi_problem(get(&anon, &format!("/temporal/entities/{id}")).await, 404, "ResourceNotFound").await;
    let admin_session = login("admin").await;
    let res = admin_session
        .send(
            reqwest::Method::PUT,
            "/api/context/type-policies",
            Some(json!({"type": ty, "open": true, "raw_days": 30, "hourly_days": 365})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let policy: Value = res.json().await.unwrap();
    assert_eq!(policy["type"], format!("https://uri.etsi.org/ngsi-ld/default-context/{ty}"));
    let listed: Value = admin_session.get("/api/context/type-policies").await.json().await.unwrap();
    assert!(listed.as_array().unwrap().iter().any(|p| p["type"] == policy["type"] && p["raw_days"] == 30));
    assert_eq!(values(&json_of(get(&anon, &format!("/temporal/entities/{id}")).await).await["pm25"]), vec![55.0, 60.0]);
    let list = json_of(get(&anon, &format!("/temporal/entities?type={ty}")).await).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // Anyone reads; only tokens write.
    assert_eq!(post_json(&anon, "/temporal/entities", &body).await.status(), 401);

    // Policies are checked and need devices.admin.
    let bad = admin_session
        .send(
            reqwest::Method::PUT,
            "/api/context/type-policies",
            Some(json!({"type": ty, "open": true, "raw_days": 30, "hourly_days": 7})),
        )
        .await;
    assert_eq!(bad.status(), 422);
    let res = a
        .put(format!("{}/api/context/type-policies", crate::support::servers().demo))
        .json(&json!({"type": ty, "open": false, "raw_days": null, "hourly_days": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn more_instances_than_an_answer_holds_come_in_ranges() {
    let id = uid("AirQualityObserved");
    // 1,100 observations a minute apart from 2026-11-24T00:00Z.
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-24T00:00:00Z").unwrap();
    let instances: Vec<Value> = (0..1100)
        .map(|i| {
            let at = (start + chrono::Duration::minutes(i)).to_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            json!({"type": "Property", "value": i, "observedAt": at})
        })
        .collect();
    let body = json!({"id": id, "type": "AirQualityObserved", "pm25": instances});
    assert_eq!(post_json(&admin(), "/temporal/entities", &body).await.status(), 201);

    let res = get(&admin(), &format!("/temporal/entities/{id}?options=temporalValues")).await;
    assert_eq!(res.status(), 206);
    let range = res.headers()["content-range"].to_str().unwrap().to_owned();
    assert_eq!(range, "date-time 2026-11-24T00:00:00Z-2026-11-24T16:39:00Z/*");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["pm25"]["values"].as_array().unwrap().len(), 1000);
    // The rest, from where the range ended.
    let rest = json_of(
        get(
            &admin(),
            &format!("/temporal/entities/{id}?options=temporalValues&timerel=after&timeAt=2026-11-24T16:40:00Z"),
        )
        .await,
    )
    .await;
    assert_eq!(rest["pm25"]["values"].as_array().unwrap().len(), 100);
    // lastN above the cap: the newest 1000, the range going backwards.
    let res = get(&admin(), &format!("/temporal/entities/{id}?options=temporalValues&lastN=1050")).await;
    assert_eq!(res.status(), 206);
    assert_eq!(res.headers()["content-range"], "date-time 2026-11-24T18:19:00Z-2026-11-24T01:40:00Z/1050");
    // Within the cap there is nothing partial.
    assert_eq!(get(&admin(), &format!("/temporal/entities/{id}?lastN=10")).await.status(), 200);
}

#[tokio::test]
async fn instances_attributes_and_whole_temporal_entities_are_deleted() {
    let id = uid("AirQualityObserved");
    let body =
        temporal(&id, "AirQualityObserved", centre("21583").await, &[(1.0, "08:00"), (2.0, "09:00"), (3.0, "10:00")]);
    assert_eq!(post_json(&admin(), "/temporal/entities", &body).await.status(), 201);
    // More instances through the attrs resource.
    let more = json!({"pm25": [{"type": "Property", "value": 4.0, "observedAt": "2026-11-24T11:00:00Z"}]});
    assert_eq!(post_json(&admin(), &format!("/temporal/entities/{id}/attrs"), &more).await.status(), 204);
    let v = json_of(get(&admin(), &format!("/temporal/entities/{id}?attrs=pm25")).await).await;
    assert_eq!(values(&v["pm25"]), vec![1.0, 2.0, 3.0, 4.0]);

    let instance = v["pm25"][1]["instanceId"].as_str().unwrap().to_owned();
    let del = |p: String| async move { admin().delete(url(&p)).send().await.unwrap() };
    assert_eq!(del(format!("/temporal/entities/{id}/attrs/pm25/{instance}")).await.status(), 204);
    ngsi_problem(del(format!("/temporal/entities/{id}/attrs/pm25/{instance}")).await, 404, "ResourceNotFound").await;
    let v = json_of(get(&admin(), &format!("/temporal/entities/{id}?attrs=pm25")).await).await;
    assert_eq!(values(&v["pm25"]), vec![1.0, 3.0, 4.0]);
    let res = admin()
        .patch(url(&format!("/temporal/entities/{id}/attrs/pm25/{instance}")))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    ngsi_problem(res, 422, "OperationNotSupported").await;

    assert_eq!(del(format!("/temporal/entities/{id}/attrs/pm25")).await.status(), 204);
    let v = json_of(get(&admin(), &format!("/temporal/entities/{id}")).await).await;
    assert!(v.get("pm25").is_none(), "{v}");
    assert!(json_of(get(&admin(), &format!("/entities/{id}")).await).await.get("pm25").is_none());
    ngsi_problem(del(format!("/temporal/entities/{id}/attrs/pm25")).await, 404, "ResourceNotFound").await;

    assert_eq!(del(format!("/temporal/entities/{id}")).await.status(), 204);
    ngsi_problem(get(&admin(), &format!("/temporal/entities/{id}")).await, 404, "ResourceNotFound").await;
}
