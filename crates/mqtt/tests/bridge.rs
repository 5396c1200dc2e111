//! The bridge against a real Mosquitto broker, fed by Debian's mosquitto_pub.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use haidang_mqtt::{BridgeConfig, run_bridge};
use tokio::sync::oneshot;

fn devices() -> Arc<TestAuth> {
    TestAuth::new(&[("aq-01", "k1"), ("river-07", "k2")])
}

struct Bridge {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), haidang_mqtt::BridgeError>>,
}

fn bridge_config(port: u16) -> BridgeConfig {
    let mut cfg = BridgeConfig::new("127.0.0.1", port, "haidang-bridge-test", vec!["devices/+/measures".into()]);
    cfg.reconnect_min = Duration::from_millis(100);
    cfg.reconnect_max = Duration::from_millis(400);
    cfg
}

impl Bridge {
    fn start(port: u16, sink: Arc<TestSink>) -> Self {
        Self::start_with(bridge_config(port), sink)
    }

    fn start_with(cfg: BridgeConfig, sink: Arc<TestSink>) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run_bridge(cfg, devices(), sink, async {
            let _ = stopped.await;
        }));
        Bridge { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(15), self.task)
            .await
            .expect("bridge stops")
            .unwrap()
            .expect("bridge ends without error");
    }
}

async fn publish(port: u16, topic: &str, msg: &str) {
    let out = mosquitto_client(MOSQUITTO_PUB, port, &["-q", "1", "-t", topic, "-m", msg]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Publishes probes until the bridge has subscribed and stored one.
async fn wait_subscribed(port: u16, sink: &TestSink) {
    for i in 0..100 {
        publish(port, "devices/aq-01/measures", &format!("probe-{i}")).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        if !sink.stored().is_empty() {
            return;
        }
    }
    panic!("the bridge never stored a probe");
}

fn count(sink: &TestSink, payload: &str) -> usize {
    sink.stored().iter().filter(|s| s.payload == payload.as_bytes()).count()
}

async fn wait_payload(sink: &TestSink, payload: &str) {
    for _ in 0..300 {
        if count(sink, payload) > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{payload} never stored: {:?}", sink.stored());
}

#[tokio::test]
async fn bridge_stores_acks_and_resumes_its_session() {
    let broker = Mosquitto::start().await;
    let sink = TestSink::new();
    let bridge = Bridge::start(broker.port, sink.clone());
    wait_subscribed(broker.port, &sink).await;

    publish(broker.port, "devices/river-07/measures", r#"{"level":2.4}"#).await;
    wait_payload(&sink, r#"{"level":2.4}"#).await;
    let stored = sink.stored();
    let s = stored.iter().find(|s| s.payload == Bytes::from_static(br#"{"level":2.4}"#)).unwrap();
    assert_eq!((s.device.as_str(), s.topic.as_str()), ("river-07", "devices/river-07/measures"));
    // No such device: acked and dropped, never stored.
    publish(broker.port, "devices/ghost/measures", "{}").await;
    bridge.stop().await;

    // While the bridge is away, the broker queues for its persistent session.
    publish(broker.port, "devices/aq-01/measures", "while-away").await;
    let before = sink.stored().len();
    let bridge = Bridge::start(broker.port, sink.clone());
    wait_payload(&sink, "while-away").await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    // Everything stored before was acked: nothing comes again.
    assert_eq!(sink.stored().len(), before + 1, "{:?}", sink.stored());
    assert_eq!(count(&sink, r#"{"level":2.4}"#), 1);
    assert!(sink.stored().iter().all(|s| s.device != "ghost"));
    bridge.stop().await;
}

#[tokio::test]
async fn bridge_does_not_ack_when_the_store_is_down_and_gets_the_message_again() {
    let broker = Mosquitto::start().await;
    let sink = TestSink::new();
    let bridge = Bridge::start(broker.port, sink.clone());
    wait_subscribed(broker.port, &sink).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let calls_before = sink.calls.load(Ordering::SeqCst);

    sink.fail_next.store(1, Ordering::SeqCst);
    publish(broker.port, "devices/aq-01/measures", "must-not-be-lost").await;
    wait_payload(&sink, "must-not-be-lost").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count(&sink, "must-not-be-lost"), 1);
    // The refused attempt, then the redelivery after the bridge reconnected.
    assert_eq!(sink.calls.load(Ordering::SeqCst), calls_before + 2);
    bridge.stop().await;
}

#[tokio::test]
async fn bridge_rejects_a_bad_configuration() {
    let cfg = BridgeConfig::new("127.0.0.1", 1, "", vec!["devices/+/measures".into()]);
    let r = run_bridge(cfg, devices(), TestSink::new(), std::future::pending()).await;
    assert!(matches!(r, Err(haidang_mqtt::BridgeError::Config(_))));
    let cfg = BridgeConfig::new("127.0.0.1", 1, "b", vec!["devices/#/x".into()]);
    let r = run_bridge(cfg, devices(), TestSink::new(), std::future::pending()).await;
    assert!(matches!(r, Err(haidang_mqtt::BridgeError::Config(_))));
}

/// TLS to the external broker, trusting a private CA (tests/tls: a test CA and a certificate for
/// localhost and 127.0.0.1, valid until 2126).
#[tokio::test]
async fn bridge_over_tls_with_a_private_ca() {
    let tls = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tls");
    let broker =
        Mosquitto::start_with(&format!("certfile {tls}/server.pem\nkeyfile {tls}/server.key\ncafile {tls}/ca.pem"))
            .await;
    let sink = TestSink::new();
    let mut cfg = bridge_config(broker.port);
    cfg.tls = true;
    cfg.tls_ca_pem = Some(std::fs::read(format!("{tls}/ca.pem")).unwrap());
    let bridge = Bridge::start_with(cfg, sink.clone());
    for i in 0..100 {
        let out = mosquitto_client(
            MOSQUITTO_PUB,
            broker.port,
            &[
                "--cafile",
                &format!("{tls}/ca.pem"),
                "-q",
                "1",
                "-t",
                "devices/aq-01/measures",
                "-m",
                &format!("tls-{i}"),
            ],
        )
        .await;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        tokio::time::sleep(Duration::from_millis(100)).await;
        if !sink.stored().is_empty() {
            break;
        }
    }
    assert!(sink.stored().iter().any(|s| s.payload.starts_with(b"tls-")), "nothing came over TLS");
    bridge.stop().await;

    // A CA that didn't sign the broker's certificate: the bridge never gets a message in.
    let sink = TestSink::new();
    let mut cfg = bridge_config(broker.port);
    cfg.tls = true;
    cfg.tls_ca_pem = Some(std::fs::read(format!("{tls}/server.pem")).unwrap());
    let bridge = Bridge::start_with(cfg, sink.clone());
    // Queued for the bridge's persistent session: it would arrive if the handshake succeeded.
    let out = mosquitto_client(
        MOSQUITTO_PUB,
        broker.port,
        &["--cafile", &format!("{tls}/ca.pem"), "-q", "1", "-t", "devices/aq-01/measures", "-m", "untrusted"],
    )
    .await;
    assert!(out.status.success());
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(sink.stored().is_empty());
    bridge.stop().await;
}
