//! Operations endpoints and the API's own description.

use super::support::*;
use serde_json::Value;

#[tokio::test]
async fn health_readiness_metrics_and_openapi() {
    let base = &servers().demo;
    let client = reqwest::Client::new();
    assert_eq!(client.get(format!("{base}/healthz")).send().await.unwrap().text().await.unwrap(), "ok");
    assert_eq!(client.get(format!("{base}/readyz")).send().await.unwrap().status(), 200);
    // Some traffic, then the counters show it by route template.
    login("operator").await.get("/api/org-units?limit=1").await;
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("haidang_http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/api/org-units\""), "{metrics}");
    assert!(metrics.contains("haidang_http_request_duration_seconds_bucket"));

    let doc: Value = client.get(format!("{base}/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/auth/login",
        "/api/org-units",
        "/api/org-units/{id}",
        "/api/users",
        "/api/duty/current",
        "/api/tokens",
        "/api/audit",
        "/api/events",
        "/api/geo/locate",
    ] {
        assert!(paths.contains_key(p), "{p} documented");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let page = client.get(format!("{base}/api/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger"), "the API page is served from the binary");
    let ui: Value = client.get(format!("{base}/api/ui-config")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ui["province"]["code"], "52");
    assert_eq!(ui["demo"], true);
}

#[tokio::test]
async fn the_web_ui_is_served_for_client_routes() {
    let base = &servers().demo;
    let res = reqwest::get(format!("{base}/org/123")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(res.headers().contains_key("content-security-policy"));
    assert_eq!(reqwest::get(format!("{base}/assets/missing.js")).await.unwrap().status(), 404);
}
