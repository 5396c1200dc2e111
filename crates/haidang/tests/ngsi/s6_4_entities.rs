//! Clauses 6.4–6.7: entities and their attributes.

use super::common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn create_retrieve_in_every_representation_and_refuse_a_second_create() {
    let id = uid("AirQualityObserved");
    let (lon, lat) = centre("21583").await;
    let res = post_json(&admin(), "/entities", &air_quality(&id, lon, lat, 12.5)).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["location"].to_str().unwrap(), format!("/ngsi-ld/v1/entities/{id}"));

    let res = get(&admin(), &format!("/entities/{id}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert!(res.headers()["link"].to_str().unwrap().contains(CORE));
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["id"], id.as_str());
    assert_eq!(e["type"], "AirQualityObserved");
    assert_eq!(e["pm25"]["value"], 12.5);
    assert_eq!(e["pm25"]["unitCode"], "GQ");
    assert_eq!(e["location"]["type"], "GeoProperty");

    let kv: Value = get(&admin(), &format!("/entities/{id}?options=keyValues")).await.json().await.unwrap();
    assert_eq!(kv["pm25"], 12.5);
    assert_eq!(kv["name"], "Trạm quan trắc");

    let res =
        admin().get(url(&format!("/entities/{id}"))).header("accept", "application/ld+json").send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/ld+json");
    let ld: Value = res.json().await.unwrap();
    assert!(ld["@context"].to_string().contains(CORE), "{ld}");

    let geo: Value = admin()
        .get(url(&format!("/entities/{id}")))
        .header("accept", "application/geo+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(geo["type"], "Feature");
    assert_eq!(geo["geometry"]["type"], "Point");

    let sys: Value = get(&admin(), &format!("/entities/{id}?options=sysAttrs")).await.json().await.unwrap();
    assert!(sys["createdAt"].is_string() && sys["pm25"]["modifiedAt"].is_string(), "{sys}");

    let again = post_json(&admin(), "/entities", &air_quality(&id, lon, lat, 1.0)).await;
    ngsi_problem(again, 409, "AlreadyExists").await;
}

#[tokio::test]
async fn unknown_and_malformed_ids_and_bodies_get_the_specified_errors() {
    ngsi_problem(get(&admin(), "/entities/urn:ngsi-ld:X:nothing-here").await, 404, "ResourceNotFound").await;
    ngsi_problem(get(&admin(), "/entities/not%20a%20uri").await, 400, "BadRequestData").await;
    let bad_json = admin()
        .post(url("/entities"))
        .header("content-type", "application/json")
        .body("{\"id\": ")
        .send()
        .await
        .unwrap();
    ngsi_problem(bad_json, 400, "InvalidRequest").await;
    let no_type = post_json(&admin(), "/entities", &json!({"id": uid("X")})).await;
    ngsi_problem(no_type, 400, "BadRequestData").await;
    let ctx_in_json = post_json(&admin(), "/entities", &json!({"id": uid("X"), "type": "X", "@context": CORE})).await;
    ngsi_problem(ctx_in_json, 400, "BadRequestData").await;
    let bad_geometry = post_json(
        &admin(),
        "/entities",
        &json!({"id": uid("X"), "type": "X",
                "location": {"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": [[[108.0, 14.0], [108.1, 14.0], [108.1, 14.1]]]}}}),
    )
    .await;
    ngsi_problem(bad_geometry, 400, "BadRequestData").await;
    let unsupported =
        admin().post(url("/entities")).header("content-type", "text/plain").body("x").send().await.unwrap();
    assert_eq!(unsupported.status(), 415);
    let not_acceptable =
        admin().get(url("/entities/urn:ngsi-ld:X:1")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(not_acceptable.status(), 406);
}

#[tokio::test]
async fn unknown_context_is_ld_context_not_available() {
    let res = admin()
        .get(url("/entities?type=X"))
        .header("link", "<http://127.0.0.1:9/none.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"")
        .send()
        .await
        .unwrap();
    ngsi_problem(res, 503, "LdContextNotAvailable").await;
}

#[tokio::test]
async fn attributes_are_appended_updated_patched_and_deleted() {
    let id = uid("AirQualityObserved");
    let (lon, lat) = centre("21583").await;
    assert_eq!(post_json(&admin(), "/entities", &air_quality(&id, lon, lat, 10.0)).await.status(), 201);
    let path = format!("/entities/{id}/attrs");
    let res = post_json(&admin(), &path, &json!({"no2": {"type": "Property", "value": 31}})).await;
    assert_eq!(res.status(), 204);
    // noOverwrite leaves an existing attribute and says so.
    let res = post_json(
        &admin(),
        &format!("{path}?options=noOverwrite"),
        &json!({"pm25": {"type": "Property", "value": 99}}),
    )
    .await;
    assert_eq!(res.status(), 207);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["notUpdated"][0]["attributeName"], "pm25");
    // PATCH /attrs updates only what exists.
    let res = admin()
        .patch(url(&path))
        .header("content-type", "application/json")
        .body(json!({"pm25": {"type": "Property", "value": 20.0}, "o3": {"type": "Property", "value": 1}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 207);
    let e: Value = get(&admin(), &format!("/entities/{id}?options=keyValues")).await.json().await.unwrap();
    assert_eq!(e["pm25"], 20.0);
    assert_eq!(e["no2"], 31);
    assert!(e.get("o3").is_none());
    let res = admin().delete(url(&format!("{path}/no2"))).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res = admin().delete(url(&format!("{path}/no2"))).send().await.unwrap();
    ngsi_problem(res, 404, "ResourceNotFound").await;
    let res = admin().delete(url(&format!("/entities/{id}"))).send().await.unwrap();
    assert_eq!(res.status(), 204);
    ngsi_problem(get(&admin(), &format!("/entities/{id}")).await, 404, "ResourceNotFound").await;
}

#[tokio::test]
async fn one_attribute_is_patched_or_replaced_and_the_entity_merged_or_replaced() {
    let id = uid("AirQualityObserved");
    let (lon, lat) = centre("21583").await;
    assert_eq!(post_json(&admin(), "/entities", &air_quality(&id, lon, lat, 10.0)).await.status(), 201);
    let send = |method: reqwest::Method, path: String, body: Value| {
        admin().request(method, url(&path)).header("content-type", "application/json").body(body.to_string()).send()
    };
    let kv =
        || async { get(&admin(), &format!("/entities/{id}?options=keyValues")).await.json::<Value>().await.unwrap() };
    // PATCH one attribute: the value changes, its unit stays.
    let res = send(reqwest::Method::PATCH, format!("/entities/{id}/attrs/pm25"), json!({"value": 11.0})).await.unwrap();
    assert_eq!(res.status(), 204);
    let e: Value = get(&admin(), &format!("/entities/{id}")).await.json().await.unwrap();
    assert_eq!(e["pm25"]["value"], 11.0);
    assert_eq!(e["pm25"]["unitCode"], "GQ");
    // PUT one attribute: replaced whole, the unit goes.
    let res =
        send(reqwest::Method::PUT, format!("/entities/{id}/attrs/pm25"), json!({"type": "Property", "value": 12.0}))
            .await
            .unwrap();
    assert_eq!(res.status(), 204);
    let e: Value = get(&admin(), &format!("/entities/{id}")).await.json().await.unwrap();
    assert_eq!(e["pm25"]["value"], 12.0);
    assert!(e["pm25"].get("unitCode").is_none(), "{e}");
    let res = send(reqwest::Method::PATCH, format!("/entities/{id}/attrs/nothing"), json!({"value": 1})).await.unwrap();
    ngsi_problem(res, 404, "ResourceNotFound").await;
    // PATCH the entity: merged, other attributes kept.
    let res = send(reqwest::Method::PATCH, format!("/entities/{id}"), json!({"no2": {"type": "Property", "value": 3}}))
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(kv().await["no2"], 3);
    assert_eq!(kv().await["pm25"], 12.0);
    // PUT the entity: only what is sent remains; a body about another id is refused.
    let res = send(
        reqwest::Method::PUT,
        format!("/entities/{id}"),
        json!({"type": "AirQualityObserved", "o3": {"type": "Property", "value": 7},
               "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 204);
    let e = kv().await;
    assert_eq!(e["o3"], 7);
    assert!(e.get("pm25").is_none() && e.get("no2").is_none(), "{e}");
    let res = send(reqwest::Method::PUT, format!("/entities/{id}"), json!({"id": "urn:ngsi-ld:X:other", "type": "X"}))
        .await
        .unwrap();
    ngsi_problem(res, 400, "BadRequestData").await;
}
