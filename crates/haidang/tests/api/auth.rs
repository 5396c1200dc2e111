//! Sessions, CSRF, lock-out, rate limits, password policy, two-factor login, audit.

use super::support::*;
use reqwest::{Client, Method};
use serde_json::{Value, json};

async fn make_user(admin: &Session, username: &str, unit_code: &str, role: &str) -> i64 {
    let unit = unit_id(unit_code).await;
    let res = admin.post("/api/users", json!({"username": username, "display_name": format!("Người thử {username}"), "password": PASSWORD, "home_unit_id": unit})).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let user: Value = res.json().await.unwrap();
    let id = user["id"].as_i64().unwrap();
    let res = admin.post(&format!("/api/users/{id}/grants"), json!({"role": role, "unit_id": unit})).await;
    assert_eq!(res.status(), 201);
    id
}

#[tokio::test]
async fn session_cookie_is_http_only_strict_and_changes_need_csrf() {
    let client = Client::builder().cookie_store(true).build().unwrap();
    let base = &servers().demo;
    let res = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": "operator", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> =
        res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let session = cookies.iter().find(|c| c.starts_with("hd_session=")).unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Path=/"),
        "{session}"
    );
    let csrf = cookies.iter().find(|c| c.starts_with("hd_csrf=")).unwrap();
    assert!(!csrf.contains("HttpOnly"));
    // A change without the CSRF header is refused, with it accepted.
    let res = client.patch(format!("{base}/api/auth/me")).json(&json!({"locale": "en"})).send().await.unwrap();
    problem(res, 403, "csrf").await;
    let res = client
        .patch(format!("{base}/api/auth/me"))
        .header("x-csrf-token", "wrong")
        .json(&json!({"locale": "en"}))
        .send()
        .await
        .unwrap();
    problem(res, 403, "csrf").await;
    // Logging out ends the session on the server.
    let s = login("operator").await;
    assert_eq!(s.send(Method::POST, "/api/auth/logout", None).await.status(), 204);
    problem(s.get("/api/auth/me").await, 401, "unauthenticated").await;
    problem(Client::new().get(format!("{base}/api/auth/me")).send().await.unwrap(), 401, "unauthenticated").await;
    problem(
        bearer("not-a-real-token-123").get(format!("{base}/api/auth/me")).send().await.unwrap(),
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn wrong_passwords_lock_the_account_and_floods_are_rate_limited() {
    let admin = login("admin").await;
    make_user(&admin, "locktest", "21583", "commune_officer").await;
    let base = &servers().strict;
    let client = Client::new();
    let attempt = |password: &'static str| {
        client
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"username": "locktest", "password": password}))
            .send()
    };
    problem(attempt("wrong-1").await.unwrap(), 401, "unauthenticated").await;
    problem(attempt("wrong-2").await.unwrap(), 401, "unauthenticated").await;
    problem(attempt("wrong-3").await.unwrap(), 423, "locked").await;
    // Per-username rate limit (3 a minute here) answers before the password is even checked.
    let p = problem(attempt("wrong-4").await.unwrap(), 429, "rate-limited").await;
    assert!(p["detail"].as_str().unwrap().contains("try again"));
    // Locked even with the right password, on a server without the rate limit.
    let res = Client::new()
        .post(format!("{}/api/auth/login", servers().demo))
        .json(&json!({"username": "locktest", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    problem(res, 423, "locked").await;
    // The lock is audited, and an unknown user gets the same answer as a wrong password.
    let entries: Value = admin.get("/api/audit?action=user.locked").await.json().await.unwrap();
    assert!(!entries["items"].as_array().unwrap().is_empty());
    let res = Client::new()
        .post(format!("{}/api/auth/login", servers().demo))
        .json(&json!({"username": "nobody-here", "password": "x"}))
        .send()
        .await
        .unwrap();
    problem(res, 401, "unauthenticated").await;
}

#[tokio::test]
async fn new_accounts_must_change_the_initial_password_outside_the_demo() {
    let admin = login("admin").await;
    make_user(&admin, "newcomer", "23575", "commune_officer").await;
    // The user was made on the demo server, which does not force a change; the production
    // server's reset does.
    let prod_admin_store = &servers().store;
    let id = prod_admin_store.user_by_username("newcomer").await.unwrap().id;
    prod_admin_store
        .set_password(
            &haidang_store::AuditCtx::system("test"),
            id,
            &haidang_auth::PasswordHasher::with_params(1024, 1).hash(PASSWORD),
            true,
            None,
        )
        .await
        .unwrap();
    let s = login_at(&servers().production, "newcomer").await;
    assert_eq!(s.me["must_change_password"], true);
    problem(s.get("/api/org-units").await, 403, "password-change-required").await;
    let p = problem(
        s.post("/api/auth/password", json!({"current_password": PASSWORD, "new_password": "short"})).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "new_password");
    problem(
        s.post("/api/auth/password", json!({"current_password": "wrong", "new_password": "Nhon-Binh-2026!"})).await,
        422,
        "validation",
    )
    .await;
    assert_eq!(
        s.post("/api/auth/password", json!({"current_password": PASSWORD, "new_password": "Nhon-Binh-2026!"}))
            .await
            .status(),
        204
    );
    assert_eq!(s.get("/api/org-units").await.status(), 200);
}

#[tokio::test]
async fn administrators_need_two_factor_outside_the_demo() {
    let admin = login("admin").await;
    make_user(&admin, "chief", "52", "leader").await;
    let s = login_at(&servers().production, "chief").await;
    assert_eq!(s.me["totp_required"], true);
    problem(s.get("/api/org-units").await, 403, "totp-setup-required").await;
    let setup: Value = s.post("/api/auth/totp/setup", json!({})).await.json().await.unwrap();
    let secret = setup["secret"].as_str().unwrap();
    assert!(setup["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/"));
    let totp = haidang_auth::Totp::from_base32(secret, "Hải Đăng", "chief").unwrap();
    let now = chrono::Utc::now().timestamp() as u64;
    problem(s.post("/api/auth/totp/enable", json!({"code": "000000"})).await, 422, "validation").await;
    assert_eq!(s.post("/api/auth/totp/enable", json!({"code": totp.code_at(now)})).await.status(), 204);
    assert_eq!(s.get("/api/org-units").await.status(), 200);
    // From now on the password alone is not enough.
    let base = &servers().production;
    let res = Client::new()
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": "chief", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    problem(res, 401, "totp-required").await;
    let res = Client::new()
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": "chief", "password": PASSWORD, "totp": totp.code_at(now)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // And the role cannot turn it off.
    problem(s.post("/api/auth/totp/disable", json!({"code": totp.code_at(now)})).await, 403, "forbidden").await;
}

#[tokio::test]
async fn every_change_is_audited_with_actor_ip_and_a_verifiable_chain() {
    let admin = login("admin").await;
    let unit = unit_id("21583").await;
    let code = format!("AUDIT-{}", std::process::id());
    let res = admin
        .post("/api/org-units", json!({"code": code, "name": "Tổ kiểm tra", "type": "division", "parent_id": unit}))
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    let entries: Value =
        admin.get(&format!("/api/audit?action=org_unit.create&object_id={id}")).await.json().await.unwrap();
    let e = &entries["items"][0];
    assert_eq!(e["actor"]["name"], "admin");
    assert_eq!(e["ip"], "127.0.0.1");
    assert_eq!(e["summary"]["after"]["code"], code);
    assert!(e["request_id"].is_string());
    let found: Value = admin.get(&format!("/api/audit?q={code}")).await.json().await.unwrap();
    assert_eq!(found["items"][0]["object_id"], id.to_string(), "free-text search finds the entry");
    let check: Value = admin.get("/api/audit/verify").await.json().await.unwrap();
    assert_eq!(check["ok"], true, "{check}");
    // Exports carry the same entries.
    let csv = admin.get(&format!("/api/audit/export?format=csv&object_id={id}")).await;
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    assert!(text.contains("org_unit.create") && text.contains(&code));
    let xlsx = admin.get(&format!("/api/audit/export?format=xlsx&object_id={id}")).await.bytes().await.unwrap();
    assert_eq!(&xlsx[..2], b"PK");
    // A commune officer's audit view is refused; the leader's is the province's.
    problem(login("commune").await.get("/api/audit").await, 403, "forbidden").await;
}

#[tokio::test]
async fn duty_roster_and_handover() {
    let admin = login("admin").await;
    let operator = login("operator").await;
    let current: Value = operator.get("/api/duty/current").await.json().await.unwrap();
    let shift = &current["on_duty"][0];
    let id = shift["id"].as_i64().unwrap();
    let res = operator
        .send(
            Method::PATCH,
            &format!("/api/duty/shifts/{id}"),
            Some(json!({"handover_note": "Mưa lớn ở An Nhơn; theo dõi mực nước sông Kôn."})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let leader = login("leader").await;
    problem(
        leader.send(Method::PATCH, &format!("/api/duty/shifts/{id}"), Some(json!({"handover_note": "x"}))).await,
        403,
        "forbidden",
    )
    .await;
    // Overlapping shifts for one person are refused.
    let p = problem(
        admin
            .post("/api/duty/shifts", json!({"user_id": operator.me["id"], "unit_id": shift["unit"]["id"], "starts_at": shift["starts_at"], "ends_at": shift["ends_at"]}))
            .await,
        409,
        "conflict",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("shift"));
}
