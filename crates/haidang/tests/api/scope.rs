//! Scope: an officer of commune A is refused every object of commune B, through every
//! endpoint; a token scoped to one unit cannot reach another.

use super::support::*;
use reqwest::Method;
use serde_json::{Value, json};

const A: &str = "21583"; // Phường Quy Nhơn: `commune`
const B: &str = "23575"; // Phường Pleiku: `commune2`

/// Asserts every listed unit lies in the subtree of `root` (other tests add sub-units there).
async fn all_within(listed: &[i64], root: i64) {
    let tree = servers().store.org_tree().await.unwrap();
    assert!(listed.contains(&root), "{listed:?} lacks {root}");
    for id in listed {
        assert!(tree.is_within(haidang_core::OrgUnitId(*id), haidang_core::OrgUnitId(root)), "{id} is outside {root}");
    }
}

async fn ids(res: reqwest::Response) -> Vec<i64> {
    let body: Value = res.json().await.unwrap();
    let items = body.get("items").cloned().unwrap_or(body);
    items.as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn commune_officer_is_refused_every_object_of_another_commune() {
    let a = login("commune").await;
    let b_unit = unit_id(B).await;
    let a_unit = unit_id(A).await;
    let b_user = servers().store.user_by_username("commune2").await.unwrap().id.0;
    let b = &login("commune2").await;

    // Org units: read one, list, tree, children, map, search, locate.
    problem(a.get(&format!("/api/org-units/{b_unit}")).await, 403, "forbidden").await;
    assert_eq!(a.get(&format!("/api/org-units/{a_unit}")).await.status(), 200);
    all_within(&ids(a.get("/api/org-units?limit=500").await).await, a_unit).await;
    assert!(!ids(a.get("/api/org-units/tree").await).await.contains(&b_unit));
    assert!(ids(a.get(&format!("/api/org-units?parent={b_unit}")).await).await.is_empty());
    assert!(ids(a.get("/api/org-units?q=pleiku").await).await.is_empty());
    let geo: Value = a.get("/api/org-units/geojson").await.json().await.unwrap();
    let features: Vec<i64> =
        geo["features"].as_array().unwrap().iter().map(|f| f["properties"]["id"].as_i64().unwrap()).collect();
    all_within(&features, a_unit).await;
    let pleiku = servers().store.org_unit(haidang_core::OrgUnitId(b_unit)).await.unwrap();
    let located: Value = a
        .get(&format!("/api/geo/locate?lat={}&lon={}", pleiku.lat.unwrap(), pleiku.lon.unwrap()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(located["unit"], Value::Null, "locate must not reveal another commune: {located}");
    problem(
        a.send(Method::PATCH, &format!("/api/org-units/{b_unit}"), Some(json!({"name": "x"}))).await,
        403,
        "forbidden",
    )
    .await;
    problem(
        a.post("/api/org-units", json!({"code": "X-1", "name": "x", "type": "division", "parent_id": b_unit})).await,
        403,
        "forbidden",
    )
    .await;

    // Accounts: read one, list, change, reset, grants.
    problem(a.get(&format!("/api/users/{b_user}")).await, 403, "forbidden").await;
    let users = ids(a.get("/api/users?limit=500").await).await;
    assert!(!users.contains(&b_user));
    assert!(users.contains(&a.me["id"].as_i64().unwrap()));
    assert!(ids(a.get(&format!("/api/users?unit={b_unit}")).await).await.is_empty());
    problem(
        a.send(Method::PATCH, &format!("/api/users/{b_user}"), Some(json!({"display_name": "x"}))).await,
        403,
        "forbidden",
    )
    .await;
    problem(
        a.post(&format!("/api/users/{b_user}/reset-password"), json!({"password": "Xyz-12345-abc"})).await,
        403,
        "forbidden",
    )
    .await;
    problem(
        a.post(&format!("/api/users/{b_user}/grants"), json!({"role": "commune_officer", "unit_id": a_unit})).await,
        403,
        "forbidden",
    )
    .await;
    let b_grant = b.me["grants"][0]["id"].as_i64().unwrap();
    problem(a.send(Method::DELETE, &format!("/api/users/{b_user}/grants/{b_grant}"), None).await, 403, "forbidden")
        .await;

    // Roster, tokens, audit: not for commune officers at all.
    problem(a.get("/api/duty/shifts").await, 403, "forbidden").await;
    problem(a.get("/api/duty/current").await, 403, "forbidden").await;
    problem(a.get("/api/tokens").await, 403, "forbidden").await;
    problem(a.get("/api/audit").await, 403, "forbidden").await;
    problem(a.get("/api/audit/export?format=csv").await, 403, "forbidden").await;

    // And the other way round.
    problem(b.get(&format!("/api/org-units/{a_unit}")).await, 403, "forbidden").await;
}

#[tokio::test]
async fn department_specialist_sees_the_province_but_cannot_administer_it() {
    let s = login("specialist").await;
    assert_eq!(s.me["grants"][0]["fields"], json!(["construction"]));
    let b_unit = unit_id(B).await;
    assert_eq!(s.get(&format!("/api/org-units/{b_unit}")).await.status(), 200);
    problem(s.get("/api/users").await, 403, "forbidden").await;
    problem(
        s.send(Method::PATCH, &format!("/api/org-units/{b_unit}"), Some(json!({"name": "x"}))).await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn every_demo_role_logs_in_and_sees_what_its_grant_allows() {
    let expectations: [(&str, &[&str], &[&str]); 7] = [
        ("admin", &["org", "users", "duty", "audit", "tokens", "reports", "reports-admin"], &[]),
        ("leader", &["org", "users", "duty", "audit", "reports", "reports-stats"], &["tokens", "reports-admin"]),
        ("operator", &["org", "users", "duty", "reports"], &["audit", "tokens", "reports-admin"]),
        ("specialist", &["org", "reports"], &["users", "duty", "audit", "tokens"]),
        ("commune", &["org", "users", "reports"], &["duty", "audit", "tokens", "reports-admin"]),
        ("commune2", &["org", "users", "reports"], &["duty", "audit", "tokens"]),
        ("soc", &["org", "duty", "audit"], &["users", "tokens", "reports"]),
    ];
    for (user, has, lacks) in expectations {
        let s = login(user).await;
        let modules: Vec<&str> = s.me["modules"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
        for m in has {
            assert!(modules.contains(m), "{user} should reach {m}: {modules:?}");
        }
        for m in lacks {
            assert!(!modules.contains(m), "{user} should not reach {m}: {modules:?}");
        }
        let listed = ids(s.get("/api/org-units/tree").await).await;
        let total = listed.len();
        if user.starts_with("commune") {
            all_within(&listed, s.me["home_unit"]["id"].as_i64().unwrap()).await;
        } else {
            assert!(total > 150, "{user} sees the province: {total}");
        }
    }
    let admin = login("admin").await;
    let on_duty: Value = admin.get("/api/duty/current").await.json().await.unwrap();
    assert_eq!(on_duty["on_duty"][0]["user"]["username"], "operator", "the demo roster has the operator on duty now");
}

#[tokio::test]
async fn a_token_scoped_to_one_unit_cannot_reach_another() {
    let admin = login("admin").await;
    let a_unit = unit_id(A).await;
    let b_unit = unit_id(B).await;
    let created: Value = admin
        .post(
            "/api/tokens",
            json!({"name": "sensor gateway A", "unit_id": a_unit, "permissions": ["org.read", "users.read"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let base = &servers().demo;
    let t = bearer(&token);
    assert_eq!(t.get(format!("{base}/api/org-units/{a_unit}")).send().await.unwrap().status(), 200);
    problem(t.get(format!("{base}/api/org-units/{b_unit}")).send().await.unwrap(), 403, "forbidden").await;
    all_within(&ids(t.get(format!("{base}/api/org-units?limit=500")).send().await.unwrap()).await, a_unit).await;
    problem(t.get(format!("{base}/api/audit")).send().await.unwrap(), 403, "forbidden").await;
    problem(
        t.post(format!("{base}/api/org-units"))
            .json(&json!({"code": "T-1", "name": "x", "type": "division", "parent_id": a_unit}))
            .send()
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    // A token cannot hold more than its maker: a commune officer makes none at all.
    let c = login("commune").await;
    problem(
        c.post("/api/tokens", json!({"name": "x", "unit_id": a_unit, "permissions": ["org.read"]})).await,
        403,
        "forbidden",
    )
    .await;
    // Revoked tokens stop working at once.
    let id = created["id"].as_i64().unwrap();
    assert_eq!(admin.send(Method::DELETE, &format!("/api/tokens/{id}"), None).await.status(), 204);
    problem(t.get(format!("{base}/api/org-units/{a_unit}")).send().await.unwrap(), 401, "unauthenticated").await;
    // Expired ones too: an expiry in the past is refused at creation.
    problem(admin.post("/api/tokens", json!({"name": "old", "unit_id": a_unit, "permissions": ["org.read"], "expires_at": "2020-01-01T00:00:00Z"})).await, 422, "validation").await;
}

#[tokio::test]
async fn live_channel_only_carries_events_the_caller_may_see() {
    use futures_util::StreamExt;
    let a = login("commune").await;
    let admin = login("admin").await;
    let b_unit = unit_id(B).await;
    let a_unit = unit_id(A).await;
    let res = a.get("/api/events").await;
    assert_eq!(res.status(), 200);
    let mut stream = res.bytes_stream();
    let code_b = format!("LIVE-B-{}", std::process::id());
    let code_a = format!("LIVE-A-{}", std::process::id());
    assert_eq!(
        admin
            .post(
                "/api/org-units",
                json!({"code": code_b, "name": "Tổ dân phố B", "type": "division", "parent_id": b_unit})
            )
            .await
            .status(),
        201
    );
    assert_eq!(
        admin
            .post(
                "/api/org-units",
                json!({"code": code_a, "name": "Tổ dân phố A", "type": "division", "parent_id": a_unit})
            )
            .await
            .status(),
        201
    );
    let a_child = servers().store.org_unit_by_code(&code_a).await.unwrap().id.0;
    let b_child = servers().store.org_unit_by_code(&code_b).await.unwrap().id.0;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !seen.contains(&format!("\"id\":{a_child}")) {
        let chunk = tokio::time::timeout_at(deadline, stream.next()).await.expect("event in time").unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: hello"));
    assert!(!seen.contains(&format!("\"id\":{b_child}")), "{seen}");
}
