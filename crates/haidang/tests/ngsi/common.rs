//! Helpers for the NGSI-LD tests: requests with the demo's full token or a commune's token.

use crate::support::*;
use reqwest::{Client, Response};
use serde_json::{Value, json};

pub const CORE: &str = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";

pub fn url(path: &str) -> String {
    format!("{}/ngsi-ld/v1{path}", servers().demo)
}

/// The demo's full-rights token.
pub fn admin() -> Client {
    bearer(TOKEN)
}

/// A token of `unit_code` with context.read and context.write.
pub async fn unit_token(unit_code: &str) -> Client {
    let admin = login("admin").await;
    let res = admin
        .post(
            "/api/tokens",
            json!({"name": format!("ngsi {unit_code}"), "unit_id": unit_id(unit_code).await,
                   "permissions": ["context.read", "context.write"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    bearer(body["token"].as_str().unwrap())
}

/// The centre (lon, lat) of a unit, from the org tree.
pub async fn centre(unit_code: &str) -> (f64, f64) {
    let admin = login("admin").await;
    let tree: Value = admin.get("/api/org-units/tree").await.json().await.unwrap();
    let unit = tree.as_array().unwrap().iter().find(|u| u["code"] == unit_code).expect("unit");
    (unit["lon"].as_f64().unwrap(), unit["lat"].as_f64().unwrap())
}

/// A unique entity id for a test.
pub fn uid(kind: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("urn:ngsi-ld:{kind}:t{t}-{n}")
}

pub async fn post_json(client: &Client, path: &str, body: &Value) -> Response {
    client.post(url(path)).header("content-type", "application/json").body(body.to_string()).send().await.unwrap()
}

pub async fn get(client: &Client, path: &str) -> Response {
    client.get(url(path)).send().await.unwrap()
}

/// Asserts an NGSI-LD problem of `kind` with `status`; returns it.
pub async fn ngsi_problem(res: Response, status: u16, kind: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status of {}", res.url());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], format!("https://uri.etsi.org/ngsi-ld/errors/{kind}"), "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    body
}

pub fn air_quality(id: &str, lon: f64, lat: f64, pm25: f64) -> Value {
    json!({
        "id": id,
        "type": "AirQualityObserved",
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        "pm25": {"type": "Property", "value": pm25, "unitCode": "GQ", "observedAt": "2026-11-24T08:00:00Z"},
        "name": {"type": "Property", "value": "Trạm quan trắc"},
    })
}
