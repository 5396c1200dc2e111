//! QoS 1 throughput of the embedded broker on loopback, with rumqttc clients and a sink that only
//! counts (optionally after a simulated commit latency, to show what pipelining buys).
//!
//! cargo run --release -p haidang-mqtt --example qos1_throughput -- [clients] [messages per client] [commit ms]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use haidang_mqtt::{
    AuthUnavailable, Broker, BrokerConfig, Bytes, ConnectionEvent, DeviceAuth, DeviceSession, MeasureSink, QoS,
    Refusal, SinkError,
};
use rumqttc::{AsyncClient, Event, Incoming, MqttOptions};

struct EveryDevice;

impl DeviceAuth for EveryDevice {
    async fn authenticate(&self, _: &str, user: Option<&str>, _: Option<&[u8]>) -> Result<DeviceSession, Refusal> {
        Ok(DeviceSession::with_device_prefixes(user.ok_or(Refusal::NotAuthorized)?, "bench"))
    }
    async fn session_for_topic(&self, _: &str) -> Result<Option<DeviceSession>, AuthUnavailable> {
        Ok(None)
    }
}

struct Counting {
    stored: AtomicU64,
    commit: Duration,
}

impl MeasureSink for Counting {
    async fn publish(&self, _: &DeviceSession, _: &str, _: Bytes) -> Result<(), SinkError> {
        if !self.commit.is_zero() {
            tokio::time::sleep(self.commit).await;
        }
        self.stored.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
    fn connection(&self, _: &DeviceSession, _: ConnectionEvent) {}
}

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args().skip(1).map(|a| a.parse().expect("numbers")).collect();
    let clients = args.first().copied().unwrap_or(4);
    let per_client = args.get(1).copied().unwrap_or(50_000);
    let commit = Duration::from_millis(args.get(2).copied().unwrap_or(0));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sink = Arc::new(Counting { stored: AtomicU64::new(0), commit });
    let broker = Broker::new(BrokerConfig::default(), Arc::new(EveryDevice), sink.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(broker.serve(listener, async {
        let _ = stopped.await;
    }));

    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        tasks.push(tokio::spawn(async move {
            let device = format!("bench-{c}");
            let mut o = MqttOptions::new(device.clone(), "127.0.0.1", port);
            o.set_credentials(device.clone(), "x").set_inflight(64).set_keep_alive(Duration::from_secs(30));
            let (client, mut eventloop) = AsyncClient::new(o, 256);
            let topic = format!("devices/{device}/measures");
            tokio::spawn(async move {
                for i in 0..per_client {
                    let payload = format!(r#"{{"pm25":{}}}"#, i % 500);
                    client.publish(topic.as_str(), QoS::AtLeastOnce, false, payload).await.unwrap();
                }
            });
            let mut acked = 0;
            while acked < per_client {
                if let Event::Incoming(Incoming::PubAck(_)) = eventloop.poll().await.expect("connection") {
                    acked += 1;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = start.elapsed();
    let total = clients * per_client;
    println!(
        "{total} QoS 1 messages from {clients} clients, commit {commit:?}: {:.2} s, {:.0} msg/s (sink stored {})",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        sink.stored.load(Ordering::Relaxed)
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
