//! The embedded broker against real clients: Debian's mosquitto_pub/mosquitto_sub, rumqttc's
//! async client, and a raw client on rumqttc's codec where the exact packets matter.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use haidang_mqtt::{BrokerConfig, ConnectionEvent, DisconnectReason, QoS};
use rumqttc::mqttbytes::v4::{
    ConnectReturnCode, Packet, PubAck, PubRel, Publish, Subscribe, SubscribeFilter, SubscribeReasonCode,
};
use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, Outgoing};
use tokio::sync::Semaphore;

const SECS: fn(u64) -> Duration = Duration::from_secs;

fn devices() -> Arc<TestAuth> {
    TestAuth::new(&[("aq-01", "key-aq-01"), ("river-07", "key-river-07")])
}

fn pub_args<'a>(qos: &'a str, topic: &'a str, msg: &'a str, pass: &'a str) -> Vec<&'a str> {
    vec!["-i", "aq-01", "-u", "aq-01", "-P", pass, "-q", qos, "-t", topic, "-m", msg]
}

#[tokio::test]
async fn mosquitto_pub_qos_0_1_2_reach_the_sink() {
    let sink = TestSink::new();
    let broker = start(test_config(), devices(), sink.clone()).await;
    for (i, qos) in ["0", "1", "2"].into_iter().enumerate() {
        let msg = format!(r#"{{"pm25":{i}}}"#);
        let out =
            mosquitto_client(MOSQUITTO_PUB, broker.port(), &pub_args(qos, "devices/aq-01/measures", &msg, "key-aq-01"))
                .await;
        assert!(out.status.success(), "QoS {qos}: {}", String::from_utf8_lossy(&out.stderr));
        let stored = sink.wait_stored(i + 1).await;
        assert_eq!(stored.len(), i + 1, "QoS {qos}");
        assert_eq!(stored[i].device, "aq-01");
        assert_eq!(stored[i].topic, "devices/aq-01/measures");
        assert_eq!(stored[i].payload, Bytes::from(msg));
    }
    let events = sink.events();
    assert!(events.iter().any(|(d, e)| d == "aq-01" && matches!(e, ConnectionEvent::Connected { .. })));
    assert!(
        events.iter().any(|(_, e)| matches!(
            e,
            ConnectionEvent::Disconnected { reason: DisconnectReason::ClientDisconnect, .. }
        ))
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn wrong_password_is_refused_and_nothing_is_stored() {
    let sink = TestSink::new();
    let broker = start(test_config(), devices(), sink.clone()).await;
    let out =
        mosquitto_client(MOSQUITTO_PUB, broker.port(), &pub_args("1", "devices/aq-01/measures", "{}", "not-the-key"))
            .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(stderr.contains("bad user name or password"), "{stderr}");

    // No credentials at all: 0x05 not authorised.
    let (mut c, ack) = {
        let mut c = RawClient::open(broker.addr).await;
        c.send(Packet::Connect(rumqttc::mqttbytes::v4::Connect::new("anon"))).await;
        match c.recv(SECS(5)).await {
            Recv::Packet(Packet::ConnAck(a)) => (c, a),
            _ => panic!("expected CONNACK"),
        }
    };
    assert_eq!(ack.code, ConnectReturnCode::NotAuthorized);
    c.expect_closed(SECS(5)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(sink.stored().is_empty());
    assert!(sink.events().is_empty(), "refused CONNECTs are no device events");
    broker.shutdown().await;
}

#[tokio::test]
async fn publishing_outside_own_topics_closes_the_connection() {
    let sink = TestSink::new();
    let broker = start(test_config(), devices(), sink.clone()).await;
    let out =
        mosquitto_client(MOSQUITTO_PUB, broker.port(), &pub_args("1", "devices/river-07/measures", "{}", "key-aq-01"))
            .await;
    assert!(!out.status.success(), "mosquitto_pub got its PUBACK");
    match sink.wait_disconnected().await {
        ConnectionEvent::Disconnected { reason: DisconnectReason::AclViolation { topic }, .. } => {
            assert_eq!(topic, "devices/river-07/measures")
        }
        e => panic!("{e:?}"),
    }

    // Wildcards in a topic name are a protocol violation; so is a second CONNECT.
    let (mut c, _) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", true, 30).await;
    c.send(Packet::Publish(Publish::new("devices/aq-01/+", QoS::AtLeastOnce, "x").with_pkid(1))).await;
    assert!(c.expect_closed(SECS(5)).await.is_empty());
    assert!(sink.stored().is_empty());
    broker.shutdown().await;
}

trait WithPkid {
    fn with_pkid(self, pkid: u16) -> Self;
}

impl WithPkid for Publish {
    fn with_pkid(mut self, pkid: u16) -> Self {
        self.pkid = pkid;
        self
    }
}

fn rumqttc_options(port: u16, client_id: &str, clean: bool) -> MqttOptions {
    let mut o = MqttOptions::new(client_id, "127.0.0.1", port);
    o.set_credentials("aq-01", "key-aq-01").set_keep_alive(SECS(30)).set_clean_session(clean);
    o
}

/// Polls the event loop until `done` holds for what came in (errors included, as strings), or
/// for at most `wait`.
async fn poll_until(
    eventloop: &mut rumqttc::EventLoop,
    wait: Duration,
    done: impl Fn(&[Result<Event, String>]) -> bool,
) -> Vec<Result<Event, String>> {
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(wait, async {
        while !done(&seen) {
            let ev = eventloop.poll().await.map_err(|e| e.to_string());
            let failed = ev.is_err();
            seen.push(ev);
            if failed {
                // Let a reconnect happen on the next poll, not in a hot loop.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    })
    .await;
    seen
}

async fn poll_for(eventloop: &mut rumqttc::EventLoop, wait: Duration) -> Vec<Result<Event, String>> {
    poll_until(eventloop, wait, |_| false).await
}

fn pubacks(events: &[Result<Event, String>]) -> Vec<u16> {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(Event::Incoming(Incoming::PubAck(a))) => Some(a.pkid),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn puback_is_sent_only_after_the_sink_commits() {
    let gate = Arc::new(Semaphore::new(0));
    let sink = TestSink::gated(gate.clone());
    let broker = start(test_config(), devices(), sink.clone()).await;
    let (client, mut eventloop) = AsyncClient::new(rumqttc_options(broker.port(), "aq-01", true), 10);
    client.publish("devices/aq-01/measures", QoS::AtLeastOnce, false, r#"{"no2":3}"#).await.unwrap();

    let sent =
        |seen: &[Result<Event, String>]| seen.iter().any(|e| matches!(e, Ok(Event::Outgoing(Outgoing::Publish(_)))));
    let mut before = poll_until(&mut eventloop, SECS(10), sent).await;
    assert!(sent(&before), "{before:?}");
    sink.wait_calls(1).await;
    before.extend(poll_for(&mut eventloop, Duration::from_millis(500)).await);
    assert!(pubacks(&before).is_empty(), "PUBACK before the commit: {before:?}");
    assert!(sink.stored().is_empty());

    gate.add_permits(1);
    let after = poll_until(&mut eventloop, SECS(10), |seen| !pubacks(seen).is_empty()).await;
    assert_eq!(pubacks(&after), vec![1]);
    assert_eq!(sink.stored().len(), 1);
    broker.shutdown().await;
}

#[tokio::test]
async fn store_unavailable_closes_without_ack_and_the_client_resends() {
    let sink = TestSink::failing(1);
    let broker = start(test_config(), devices(), sink.clone()).await;
    // clean_session = 0: the broker answers the reconnect with session present, so rumqttc keeps
    // (and resends) its unacked publish.
    let (client, mut eventloop) = AsyncClient::new(rumqttc_options(broker.port(), "aq-01", false), 10);
    client.publish("devices/aq-01/measures", QoS::AtLeastOnce, false, r#"{"pm10":40}"#).await.unwrap();

    let events = poll_until(&mut eventloop, SECS(10), |seen| !pubacks(seen).is_empty()).await;
    let first_error = events.iter().position(|e| e.is_err()).expect("connection closed by the broker");
    assert!(pubacks(&events[..first_error]).is_empty(), "acked although the store failed: {events:?}");
    assert_eq!(pubacks(&events), vec![1], "resent and acked after reconnecting: {events:?}");
    let reconnect = events.iter().skip(first_error).find_map(|e| match e {
        Ok(Event::Incoming(Incoming::ConnAck(a))) => Some(a.session_present),
        _ => None,
    });
    assert_eq!(reconnect, Some(true));

    assert_eq!(sink.calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    let stored = sink.stored();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].payload, Bytes::from_static(br#"{"pm10":40}"#));
    assert!(
        sink.events().iter().any(|(_, e)| matches!(
            e,
            ConnectionEvent::Disconnected { reason: DisconnectReason::SinkUnavailable(_), .. }
        ))
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn pubacks_follow_arrival_order_when_commits_finish_out_of_order() {
    let sink = TestSink::new();
    let broker = start(test_config(), devices(), sink.clone()).await;
    let (mut c, _) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", true, 30).await;
    let delays = [300, 10, 200, 0, 100, 50];
    for (i, d) in delays.iter().enumerate() {
        let p = Publish::new("devices/aq-01/measures", QoS::AtLeastOnce, format!("delay:{d}"));
        c.send(Packet::Publish(p.with_pkid(i as u16 + 1))).await;
    }
    let mut acks = Vec::new();
    while acks.len() < delays.len() {
        match c.recv(SECS(5)).await {
            Recv::Packet(Packet::PubAck(a)) => acks.push(a.pkid),
            Recv::Packet(p) => panic!("unexpected {p:?}"),
            _ => panic!("missing PUBACKs, got {acks:?}"),
        }
    }
    assert_eq!(acks, vec![1, 2, 3, 4, 5, 6]);
    let completed: Vec<_> = sink.completed.lock().unwrap().clone();
    assert_ne!(completed[0], Bytes::from_static(b"delay:300"), "commits overlapped, the slow one finished last");
    assert_eq!(completed.last().unwrap(), &Bytes::from_static(b"delay:300"));
    broker.shutdown().await;
}

#[tokio::test]
async fn in_flight_cap_stops_reading_until_commits_complete() {
    let gate = Arc::new(Semaphore::new(0));
    let sink = TestSink::gated(gate.clone());
    let cfg = BrokerConfig { max_inflight: 3, ..test_config() };
    let broker = start(cfg, devices(), sink.clone()).await;
    let (mut c, _) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", true, 30).await;
    for i in 1..=5u16 {
        c.send(Packet::Publish(Publish::new("devices/aq-01/m", QoS::AtLeastOnce, "{}").with_pkid(i))).await;
    }
    sink.wait_calls(3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.calls.load(std::sync::atomic::Ordering::SeqCst), 3, "three in flight, the rest wait unread");
    gate.add_permits(5);
    let mut acks = Vec::new();
    while acks.len() < 5 {
        match c.recv(SECS(5)).await {
            Recv::Packet(Packet::PubAck(a)) => acks.push(a.pkid),
            _ => panic!("missing PUBACKs, got {acks:?}"),
        }
    }
    assert_eq!(acks, vec![1, 2, 3, 4, 5]);
    broker.shutdown().await;
}

#[tokio::test]
async fn rejected_payload_is_acked_and_not_stored() {
    let sink = Arc::new(TestSink { reject_payload: Some("garbage"), ..Default::default() });
    let broker = start(test_config(), devices(), sink.clone()).await;
    let (mut c, _) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", true, 30).await;
    c.send(Packet::Publish(Publish::new("devices/aq-01/m", QoS::AtLeastOnce, "garbage").with_pkid(9))).await;
    assert!(matches!(c.recv(SECS(5)).await, Recv::Packet(Packet::PubAck(PubAck { pkid: 9 }))));
    assert!(sink.stored().is_empty());
    broker.shutdown().await;
}

#[tokio::test]
async fn qos2_resend_before_pubrel_is_stored_once() {
    let sink = TestSink::new();
    let broker = start(test_config(), devices(), sink.clone()).await;
    let (mut c, _) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", true, 30).await;
    let p = Publish::new("devices/aq-01/m", QoS::ExactlyOnce, "once").with_pkid(7);
    c.send(Packet::Publish(p.clone())).await;
    let mut dup = p.clone();
    dup.dup = true;
    c.send(Packet::Publish(dup)).await;
    for _ in 0..2 {
        assert!(matches!(c.recv(SECS(5)).await, Recv::Packet(Packet::PubRec(r)) if r.pkid == 7));
    }
    c.send(Packet::PubRel(PubRel::new(7))).await;
    assert!(matches!(c.recv(SECS(5)).await, Recv::Packet(Packet::PubComp(r)) if r.pkid == 7));
    // After PUBREL the id is free again: a new message with it is stored.
    c.send(Packet::Publish(Publish::new("devices/aq-01/m", QoS::ExactlyOnce, "again").with_pkid(7))).await;
    assert!(matches!(c.recv(SECS(5)).await, Recv::Packet(Packet::PubRec(r)) if r.pkid == 7));
    let payloads: Vec<_> = sink.stored().into_iter().map(|s| s.payload).collect();
    assert_eq!(payloads, vec![Bytes::from_static(b"once"), Bytes::from_static(b"again")]);
    broker.shutdown().await;
}

#[tokio::test]
async fn qos2_committed_ids_survive_a_persistent_session() {
    let sink = TestSink::new();
    let broker = start(test_config(), devices(), sink.clone()).await;
    let (mut c, ack) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", false, 30).await;
    assert!(!ack.session_present);
    c.send(Packet::Publish(Publish::new("devices/aq-01/m", QoS::ExactlyOnce, "q2").with_pkid(3))).await;
    assert!(matches!(c.recv(SECS(5)).await, Recv::Packet(Packet::PubRec(_))));
    drop(c); // the PUBREL never went out

    let (mut c, ack) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", false, 30).await;
    assert!(ack.session_present);
    let mut resend = Publish::new("devices/aq-01/m", QoS::ExactlyOnce, "q2").with_pkid(3);
    resend.dup = true;
    c.send(Packet::Publish(resend)).await;
    assert!(matches!(c.recv(SECS(5)).await, Recv::Packet(Packet::PubRec(_))));
    assert_eq!(sink.stored().len(), 1, "the resend was recognised");

    // clean_session = 1 drops the session.
    drop(c);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_c, ack) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", true, 30).await;
    assert!(!ack.session_present);
    broker.shutdown().await;
}

#[tokio::test]
async fn mqtt_3_1_is_refused_and_mqtt_5_is_closed() {
    let sink = TestSink::new();
    let broker = start(test_config(), devices(), sink.clone()).await;
    let mut args = pub_args("1", "devices/aq-01/measures", "{}", "key-aq-01");
    args.extend(["-V", "mqttv31"]);
    let out = mosquitto_client(MOSQUITTO_PUB, broker.port(), &args).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(stderr.contains("unacceptable protocol version"), "{stderr}");

    let mut args = pub_args("1", "devices/aq-01/measures", "{}", "key-aq-01");
    args.extend(["-V", "mqttv5"]);
    let out = mosquitto_client(MOSQUITTO_PUB, broker.port(), &args).await;
    assert!(!out.status.success());
    assert!(sink.stored().is_empty());
    broker.shutdown().await;
}

#[tokio::test]
async fn connect_must_come_first_and_in_time() {
    let sink = TestSink::new();
    let cfg = BrokerConfig { connect_timeout: Duration::from_millis(300), ..test_config() };
    let broker = start(cfg, devices(), sink.clone()).await;

    let mut c = RawClient::open(broker.addr).await;
    c.send(Packet::PingReq).await;
    assert!(c.expect_closed(SECS(2)).await.is_empty());

    // Slowloris: half a CONNECT, then silence.
    let mut c = RawClient::open(broker.addr).await;
    c.send_bytes(&[0x10, 0x20, 0x00, 0x04, b'M']).await;
    let t = std::time::Instant::now();
    assert!(c.expect_closed(SECS(3)).await.is_empty());
    assert!(t.elapsed() >= Duration::from_millis(250), "closed before the timeout");
    broker.shutdown().await;
}

#[tokio::test]
async fn keep_alive_is_enforced() {
    let sink = TestSink::new();
    let broker = start(test_config(), devices(), sink.clone()).await;
    let (mut c, _) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", true, 1).await;
    // Pings keep it open past 1.5 s...
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        c.send(Packet::PingReq).await;
        assert!(matches!(c.recv(SECS(2)).await, Recv::Packet(Packet::PingResp)));
    }
    // ...silence closes it after 1.5 × 1 s.
    let t = std::time::Instant::now();
    c.expect_closed(SECS(4)).await;
    assert!(t.elapsed() >= Duration::from_millis(1400), "{:?}", t.elapsed());
    assert!(matches!(
        sink.wait_disconnected().await,
        ConnectionEvent::Disconnected { reason: DisconnectReason::KeepAliveTimeout, .. }
    ));
    broker.shutdown().await;
}

#[tokio::test]
async fn second_connection_with_the_same_client_id_takes_over() {
    let sink = TestSink::new();
    let broker = start(test_config(), devices(), sink.clone()).await;
    let (mut first, _) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", true, 30).await;
    let (mut second, _) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", true, 30).await;
    first.expect_closed(SECS(5)).await;
    assert!(matches!(
        sink.wait_disconnected().await,
        ConnectionEvent::Disconnected { reason: DisconnectReason::TakenOver, .. }
    ));
    second.send(Packet::PingReq).await;
    assert!(matches!(second.recv(SECS(5)).await, Recv::Packet(Packet::PingResp)));
    // Health pages read events in order: the device must end up connected.
    let events = sink.events();
    assert!(matches!(events.last(), Some((_, ConnectionEvent::Connected { .. }))), "{events:?}");

    // Another device can't use (and so knock off) that client id: 0x02 identifier rejected.
    let mut other = RawClient::open(broker.addr).await;
    let mut connect = rumqttc::mqttbytes::v4::Connect::new("aq-01");
    connect.set_login("river-07", "key-river-07");
    other.send(Packet::Connect(connect)).await;
    assert!(matches!(
        other.recv(SECS(5)).await,
        Recv::Packet(Packet::ConnAck(a)) if a.code == ConnectReturnCode::BadClientId
    ));
    second.send(Packet::PingReq).await;
    assert!(matches!(second.recv(SECS(5)).await, Recv::Packet(Packet::PingResp)));
    assert_eq!(broker.handle.connections(), 1);
    broker.shutdown().await;
}

#[tokio::test]
async fn malformed_or_oversized_packets_close_the_connection() {
    let sink = TestSink::new();
    let cfg = BrokerConfig { max_packet_bytes: 1024, ..test_config() };
    let broker = start(cfg, devices(), sink.clone()).await;

    let (mut c, _) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", true, 30).await;
    c.send(Packet::Publish(Publish::new("devices/aq-01/m", QoS::AtLeastOnce, vec![b'x'; 2000]).with_pkid(1))).await;
    assert!(c.expect_closed(SECS(5)).await.is_empty());

    let (mut c, _) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", true, 30).await;
    // Packet type 0 is reserved.
    c.send_bytes(&[0x00, 0x00]).await;
    assert!(c.expect_closed(SECS(5)).await.is_empty());

    // QoS 1 PUBLISH with packet id 0.
    let (mut c, _) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", true, 30).await;
    c.send_bytes(&[0x32, 0x06, 0x00, 0x02, b'a', b'b', 0x00, 0x00]).await;
    assert!(c.expect_closed(SECS(5)).await.is_empty());
    assert!(sink.stored().is_empty());
    broker.shutdown().await;
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed() {
    let sink = TestSink::new();
    let cfg = BrokerConfig { max_connections: 2, ..test_config() };
    let broker = start(cfg, devices(), sink.clone()).await;
    let (_a, _) = RawClient::connect(broker.addr, "a", "aq-01", "key-aq-01", true, 30).await;
    let (_b, _) = RawClient::connect(broker.addr, "b", "river-07", "key-river-07", true, 30).await;
    let mut c = RawClient::open(broker.addr).await;
    c.send(Packet::Connect(rumqttc::mqttbytes::v4::Connect::new("c"))).await;
    assert!(c.expect_closed(SECS(5)).await.is_empty());
    drop(_a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_c, ack) = RawClient::connect(broker.addr, "c", "aq-01", "key-aq-01", true, 30).await;
    assert_eq!(ack.code, ConnectReturnCode::Success, "a slot freed up");
    broker.shutdown().await;
}

#[tokio::test]
async fn subscriptions_only_under_the_command_prefix_and_commands_are_delivered() {
    let sink = TestSink::new();
    let broker = start(test_config(), devices(), sink.clone()).await;
    let (mut c, _) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", true, 30).await;
    let sub = Subscribe::new_many([
        SubscribeFilter::new("devices/aq-01/cmd/#".into(), QoS::ExactlyOnce),
        SubscribeFilter::new("devices/river-07/cmd/#".into(), QoS::AtLeastOnce),
        SubscribeFilter::new("#".into(), QoS::AtMostOnce),
    ]);
    let mut sub = sub;
    sub.pkid = 4;
    c.send(Packet::Subscribe(sub)).await;
    match c.recv(SECS(5)).await {
        Recv::Packet(Packet::SubAck(a)) => {
            assert_eq!(a.pkid, 4);
            assert_eq!(
                a.return_codes,
                vec![
                    SubscribeReasonCode::Success(QoS::AtLeastOnce),
                    SubscribeReasonCode::Failure,
                    SubscribeReasonCode::Failure
                ]
            );
        }
        _ => panic!("expected SUBACK"),
    }
    let n =
        broker.handle.publish_to_device("aq-01", "devices/aq-01/cmd/fan", Bytes::from_static(b"on"), QoS::AtLeastOnce);
    assert_eq!(n, 1);
    match c.recv(SECS(5)).await {
        Recv::Packet(Packet::Publish(p)) => {
            assert_eq!(
                (p.topic.as_str(), &p.payload[..], p.qos),
                ("devices/aq-01/cmd/fan", &b"on"[..], QoS::AtLeastOnce)
            );
            c.send(Packet::PubAck(PubAck::new(p.pkid))).await;
        }
        _ => panic!("expected the command"),
    }
    // Not subscribed to that topic: nothing comes.
    broker.handle.publish_to_device("aq-01", "devices/aq-01/other", Bytes::from_static(b"x"), QoS::AtMostOnce);
    assert!(matches!(c.recv(Duration::from_millis(300)).await, Recv::Timeout));
    broker.shutdown().await;
}

#[tokio::test]
async fn mosquitto_sub_receives_a_command() {
    let sink = TestSink::new();
    let broker = start(test_config(), devices(), sink.clone()).await;
    let port = broker.port();
    let sub = tokio::spawn(async move {
        mosquitto_client(
            MOSQUITTO_SUB,
            port,
            &["-i", "aq-01", "-u", "aq-01", "-P", "key-aq-01", "-q", "1", "-t", "devices/aq-01/cmd/#", "-C", "1", "-v"],
        )
        .await
    });
    // A command sent before the SUBSCRIBE is processed finds no subscription and is dropped (no
    // queueing), so keep sending until mosquitto_sub has one and exits.
    for _ in 0..100 {
        if sub.is_finished() {
            break;
        }
        broker.handle.publish_to_device(
            "aq-01",
            "devices/aq-01/cmd/lamp",
            Bytes::from_static(b"dim:40"),
            QoS::AtLeastOnce,
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = sub.await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().next(), Some("devices/aq-01/cmd/lamp dim:40"));
    broker.shutdown().await;
}

#[tokio::test]
async fn shutdown_drains_in_flight_publishes_and_acks_them() {
    let gate = Arc::new(Semaphore::new(0));
    let sink = TestSink::gated(gate.clone());
    let broker = start(test_config(), devices(), sink.clone()).await;
    let (mut c, _) = RawClient::connect(broker.addr, "aq-01", "aq-01", "key-aq-01", true, 30).await;
    for i in 1..=3u16 {
        c.send(Packet::Publish(Publish::new("devices/aq-01/m", QoS::AtLeastOnce, "{}").with_pkid(i))).await;
    }
    sink.wait_calls(3).await;
    let stopping = tokio::spawn(broker.shutdown());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!stopping.is_finished(), "serve returned with publishes in flight");
    gate.add_permits(3);
    let acks = c.expect_closed(SECS(5)).await;
    assert_eq!(acks, (1..=3).map(|i| Packet::PubAck(PubAck::new(i))).collect::<Vec<_>>());
    stopping.await.unwrap();
    assert_eq!(sink.stored().len(), 3);
    assert!(
        sink.events()
            .iter()
            .any(|(_, e)| matches!(e, ConnectionEvent::Disconnected { reason: DisconnectReason::ServerShutdown, .. }))
    );
}
