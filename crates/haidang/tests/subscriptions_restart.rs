//! NGSI-LD notifications survive a restart (clause 5.11 with the outbox of the store): with the
//! receiver down, changes are made and fail to be delivered; the real `haidang demo` binary is
//! stopped (SIGTERM) and started again on the same data directory; once the receiver is up,
//! every notification arrives, in order.

mod common;
#[path = "ngsi/receiver.rs"]
mod receiver;

use std::time::{Duration, Instant};

use common::{Server, free_port};
use receiver::Receiver;
use serde_json::{Value, json};

const TOKEN: &str = "subscriptions-restart-token-0001";

async fn send(server: &Server, method: reqwest::Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut req = server.http.request(method, format!("{}/ngsi-ld/v1{path}", server.url)).bearer_auth(&server.token);
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    req.send().await.expect("request")
}

/// The subscription once `check` holds of it (within 15 s).
async fn subscription_when(server: &Server, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let s: Value = send(server, reqwest::Method::GET, "/subscriptions/urn:ngsi-ld:Subscription:restart", None)
            .await
            .json()
            .await
            .expect("subscription");
        if check(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "{what}: not within 15 s: {s}\n{}", server.log_tail(30));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_notifications_are_delivered_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    // Nothing listens here until the receiver comes up, after the restart.
    let down: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();

    let mut server = Server::start(&data, &log, TOKEN).await;
    let sub = json!({
        "id": "urn:ngsi-ld:Subscription:restart",
        "type": "Subscription",
        "entities": [{"type": "RestartProbe"}],
        "notification": {"format": "keyValues", "endpoint": {"uri": format!("http://{down}/notify")}},
    });
    let res = send(&server, reqwest::Method::POST, "/subscriptions", Some(sub)).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let id = "urn:ngsi-ld:RestartProbe:1";
    let entity = json!({"id": id, "type": "RestartProbe", "level": {"type": "Property", "value": 0}});
    assert_eq!(send(&server, reqwest::Method::POST, "/entities", Some(entity)).await.status(), 201);
    for level in 1..=4 {
        let patch = json!({"level": {"type": "Property", "value": level}});
        let res = send(&server, reqwest::Method::PATCH, &format!("/entities/{id}/attrs"), Some(patch)).await;
        assert_eq!(res.status(), 204);
    }
    // The notifier tried (and failed) before the stop.
    let s =
        subscription_when(&server, "a failed attempt", |s| s["notification"]["timesFailed"].as_u64() >= Some(1)).await;
    assert_eq!(s["notification"]["timesSent"], 0);
    assert!(server.stop().await.success(), "the server did not stop cleanly:\n{}", server.log_tail(30));

    let server = Server::start(&data, &log, TOKEN).await;
    let rx = Receiver::start_at(down).await;
    let got = rx
        .wait_until(Duration::from_secs(60), "every level", |got| {
            got.iter().flat_map(|r| r.body["data"].as_array().cloned().unwrap_or_default()).any(|e| e["level"] == 4)
        })
        .await;
    let levels: Vec<Value> = rx.entities().iter().map(|e| e["level"].clone()).collect();
    assert_eq!(levels, vec![json!(0), json!(1), json!(2), json!(3), json!(4)], "{got:#?}");
    // The delivery is recorded just after the receiver answered.
    let s = subscription_when(&server, "the delivery recorded", |s| s["notification"]["timesSent"].as_u64() >= Some(1))
        .await;
    assert_eq!(s["notification"]["status"], "ok", "{s}");
}
