//! Bad input: every refusal is a 4xx problem naming the field and the reason; nothing panics.

use super::support::*;
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn malformed_json_wrong_types_unknown_fields_and_missing_fields() {
    let admin = login("admin").await;
    let base = &servers().demo;
    let raw = |body: &'static str| {
        admin
            .client
            .post(format!("{base}/api/users"))
            .header("x-csrf-token", &admin.csrf)
            .header("content-type", "application/json")
            .body(body)
    };
    problem(raw("{\"username\": ").send().await.unwrap(), 400, "malformed-json").await;
    problem(raw("not json").send().await.unwrap(), 400, "malformed-json").await;
    let p = problem(
        raw(r#"{"username": 5, "display_name": "x", "password": "p", "home_unit_id": 1}"#).send().await.unwrap(),
        422,
        "validation",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "username", "{p}");
    let p = problem(
        raw(r#"{"username": "abc", "display_name": "x", "password": "p", "home_unit_id": 1, "is_god": true}"#)
            .send()
            .await
            .unwrap(),
        422,
        "validation",
    )
    .await;
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("is_god"), "{p}");
    let p = problem(raw(r#"{"username": "abc"}"#).send().await.unwrap(), 422, "validation").await;
    assert!(p["errors"][0]["reason"].as_str().unwrap().contains("missing field"), "{p}");
    // Several bad fields are reported together.
    let p = problem(
        admin.post("/api/users", json!({"username": "A b", "display_name": "  ", "password": "short", "home_unit_id": 1, "email": "nope"})).await,
        422,
        "validation",
    )
    .await;
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in ["username", "display_name", "email", "password"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    // A body that is not JSON at all.
    let res = admin
        .client
        .post(format!("{base}/api/users"))
        .header("x-csrf-token", &admin.csrf)
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    problem(res, 415, "unsupported-media-type").await;
    // Nested path in the error.
    let unit = unit_id("21583").await;
    let p = problem(
        admin.post("/api/tokens", json!({"name": "x", "unit_id": unit, "permissions": ["org.read", "fly"]})).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "permissions[1]", "{p}");
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Over a raw connection, so the test reads the answer the server gives as soon as it sees
    // the declared length — an HTTP client still writing 2 MB would instead fail on the closed
    // socket before it could read the 413.
    // The limit applies before anything else (parsing, login), so no session is needed.
    let addr = servers().demo.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "PATCH /api/auth/me HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{{\"display_name\": \"",
        2 * 1024 * 1024
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: application/problem+json"), "{answer}");
    assert!(answer.contains("https://haidang.vn/problems/payload-too-large"), "{answer}");
}

#[tokio::test]
async fn pagination_cursors_and_limits() {
    let admin = login("admin").await;
    let first: Value = admin.get("/api/org-units?limit=50").await.json().await.unwrap();
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second: Value = admin.get(&format!("/api/org-units?limit=50&cursor={cursor}")).await.json().await.unwrap();
    let a: Vec<&Value> = first["items"].as_array().unwrap().iter().map(|u| &u["id"]).collect();
    let b: Vec<&Value> = second["items"].as_array().unwrap().iter().map(|u| &u["id"]).collect();
    assert_eq!(a.len(), 50);
    assert!(a.iter().all(|id| !b.contains(id)), "pages do not overlap");
    // Walking every page yields every unit once, in Vietnamese order.
    let mut all = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            Some(c) => format!("/api/org-units?limit=37&cursor={c}"),
            None => "/api/org-units?limit=37".into(),
        };
        let page: Value = admin.get(&path).await.json().await.unwrap();
        all.extend(page["items"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => next = Some(c.to_owned()),
            None => break,
        }
    }
    let tree: Value = admin.get("/api/org-units/tree").await.json().await.unwrap();
    assert_eq!(all.len(), tree.as_array().unwrap().len());
    let mut sorted = all.clone();
    sorted.sort_by(|x, y| haidang_text::compare(x, y));
    assert_eq!(all, sorted);

    problem(admin.get("/api/org-units?cursor=garbage!!").await, 400, "bad-cursor").await;
    problem(admin.get("/api/org-units?cursor=MTIzNDU").await, 400, "bad-cursor").await;
    let p = problem(admin.get("/api/org-units?limit=0").await, 422, "validation").await;
    assert_eq!(p["errors"][0]["field"], "limit");
    problem(admin.get("/api/org-units?limit=abc").await, 422, "validation").await;
    problem(admin.get("/api/org-units?limit=100000").await, 422, "validation").await;
    problem(admin.get("/api/org-units?type=planet").await, 422, "validation").await;
    problem(admin.get("/api/org-units?colour=blue").await, 422, "validation").await;
    problem(admin.get("/api/audit?cursor=%%%").await, 400, "bad-cursor").await;
}

#[tokio::test]
async fn framework_errors_are_problems_too() {
    let admin = login("admin").await;
    problem(admin.get("/api/no-such-thing").await, 404, "not-found").await;
    problem(admin.send(Method::PUT, "/api/org-units", Some(json!({}))).await, 405, "http-405").await;
    problem(admin.get("/api/org-units/99999999").await, 404, "not-found").await;
    problem(admin.get("/api/org-units/abc").await, 400, "http-400").await;
    problem(admin.get("/api/geo/locate?lat=95&lon=10").await, 422, "validation").await;
    problem(admin.get("/api/geo/locate?lat=NaN&lon=10").await, 422, "validation").await;
    problem(admin.get("/api/duty/shifts?from=2025-01-10T00:00:00Z&to=2025-01-01T00:00:00Z").await, 422, "validation")
        .await;
    problem(admin.get("/api/duty/shifts?from=yesterday").await, 422, "validation").await;
    let res = admin.get("/api/org-units/1").await;
    assert!(res.headers().get("x-request-id").is_some());
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        "\\PC{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::hash_map(
                prop_oneof![
                    Just("username".to_owned()),
                    Just("name".to_owned()),
                    Just("unit_id".to_owned()),
                    Just("parent_id".to_owned()),
                    Just("type".to_owned()),
                    Just("code".to_owned()),
                    Just("permissions".to_owned()),
                    "[a-z_]{1,8}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Arbitrary JSON to every writing endpoint never gets a 5xx.
    #[test]
    fn arbitrary_bodies_never_cause_a_server_error(body in json_value(), raw in prop::collection::vec(any::<u8>(), 0..64)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let base = &servers().demo;
            let client = bearer(TOKEN);
            for (method, path) in [
                (Method::POST, "/api/users"), (Method::POST, "/api/org-units"), (Method::PATCH, "/api/org-units/999999"),
                (Method::POST, "/api/tokens"), (Method::POST, "/api/duty/shifts"), (Method::POST, "/api/auth/login"),
                (Method::POST, "/api/users/999999/grants"), (Method::PATCH, "/api/users/999999"),
            ] {
                let res = client.request(method.clone(), format!("{base}{path}")).json(&body).send().await.unwrap();
                assert!(res.status().as_u16() < 500, "{method} {path} {body} -> {}", res.status());
                let res = client.request(method.clone(), format!("{base}{path}")).header("content-type", "application/json").body(raw.clone()).send().await.unwrap();
                assert!(res.status().as_u16() < 500, "{method} {path} raw -> {}", res.status());
            }
        });
    }

    /// Arbitrary query strings never get a 5xx.
    #[test]
    fn arbitrary_queries_never_cause_a_server_error(q in "[a-z_=&%0-9A-Z.!-]{0,60}") {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let base = &servers().demo;
            let client = bearer(TOKEN);
            for path in ["/api/org-units", "/api/users", "/api/audit", "/api/duty/shifts", "/api/geo/locate", "/api/org-units/geojson"] {
                let res = client.get(format!("{base}{path}?{q}")).send().await.unwrap();
                assert!(res.status().as_u16() < 500, "{path}?{q} -> {}", res.status());
            }
        });
    }
}
