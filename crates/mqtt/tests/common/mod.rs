//! Shared test parts: a device registry and a recording sink (the real traits, no MQTT mocked),
//! a broker on a free port, the Debian mosquitto clients, and a raw 3.1.1 client on rumqttc's codec
//! for tests that must see the exact packets on the wire.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use haidang_mqtt::{
    AuthUnavailable, Broker, BrokerConfig, BrokerHandle, ConnectionEvent, DeviceAuth, DeviceSession, MeasureSink,
    Refusal, SinkError,
};
use rumqttc::mqttbytes::v4::{ConnAck, Connect, Packet};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot};

pub const MOSQUITTO_PUB: &str = "/usr/bin/mosquitto_pub";
pub const MOSQUITTO_SUB: &str = "/usr/bin/mosquitto_sub";
pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// Fails (never skips) without the mosquitto binaries: the project's test command installs them.
pub fn require(bin: &str) {
    assert!(
        Path::new(bin).exists(),
        "{bin} is missing: install Debian's mosquitto and mosquitto-clients (apt-get install mosquitto mosquitto-clients)"
    );
}

/// Devices `name → key`; a device publishes under `devices/{name}/`.
pub struct TestAuth {
    keys: HashMap<String, String>,
}

impl TestAuth {
    pub fn new(devices: &[(&str, &str)]) -> Arc<Self> {
        Arc::new(TestAuth { keys: devices.iter().map(|(d, k)| (d.to_string(), k.to_string())).collect() })
    }
}

impl DeviceAuth for TestAuth {
    async fn authenticate(
        &self,
        _client_id: &str,
        username: Option<&str>,
        password: Option<&[u8]>,
    ) -> Result<DeviceSession, Refusal> {
        let (Some(user), Some(pass)) = (username, password) else { return Err(Refusal::NotAuthorized) };
        match self.keys.get(user) {
            Some(key) if key.as_bytes() == pass => Ok(DeviceSession::with_device_prefixes(user, "tenant-1")),
            _ => Err(Refusal::BadCredentials),
        }
    }

    async fn session_for_topic(&self, topic: &str) -> Result<Option<DeviceSession>, AuthUnavailable> {
        let mut levels = topic.split('/');
        Ok(match (levels.next(), levels.next()) {
            (Some("devices"), Some(id)) if self.keys.contains_key(id) => {
                Some(DeviceSession::with_device_prefixes(id, "tenant-1"))
            }
            _ => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub device: String,
    pub topic: String,
    pub payload: Bytes,
}

/// Records what it stores. Knobs: a gate every call passes through (a semaphore the test fills),
/// a number of upcoming calls that fail as unavailable, and a per-message delay read from payloads
/// `delay:MILLIS` (to complete out of order).
#[derive(Default)]
pub struct TestSink {
    pub stored: Mutex<Vec<Stored>>,
    pub events: Mutex<Vec<(String, ConnectionEvent)>>,
    pub completed: Mutex<Vec<Bytes>>,
    pub calls: AtomicUsize,
    pub gate: Option<Arc<Semaphore>>,
    pub fail_next: AtomicUsize,
    pub reject_payload: Option<&'static str>,
}

impl TestSink {
    pub fn new() -> Arc<Self> {
        Arc::new(TestSink::default())
    }

    pub fn gated(gate: Arc<Semaphore>) -> Arc<Self> {
        Arc::new(TestSink { gate: Some(gate), ..Default::default() })
    }

    pub fn failing(n: usize) -> Arc<Self> {
        Arc::new(TestSink { fail_next: AtomicUsize::new(n), ..Default::default() })
    }

    pub fn stored(&self) -> Vec<Stored> {
        self.stored.lock().unwrap().clone()
    }

    pub fn events(&self) -> Vec<(String, ConnectionEvent)> {
        self.events.lock().unwrap().clone()
    }

    pub async fn wait_stored(&self, n: usize) -> Vec<Stored> {
        for _ in 0..500 {
            if self.stored.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.stored()
    }

    pub async fn wait_calls(&self, n: usize) {
        for _ in 0..500 {
            if self.calls.load(Ordering::SeqCst) >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the sink was called {} times, expected {n}", self.calls.load(Ordering::SeqCst));
    }

    /// Waits for a Disconnected event and returns it.
    pub async fn wait_disconnected(&self) -> ConnectionEvent {
        for _ in 0..500 {
            if let Some((_, e)) =
                self.events().into_iter().find(|(_, e)| matches!(e, ConnectionEvent::Disconnected { .. }))
            {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no Disconnected event: {:?}", self.events());
    }
}

impl MeasureSink for TestSink {
    async fn publish(&self, session: &DeviceSession, topic: &str, payload: Bytes) -> Result<(), SinkError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.gate {
            gate.acquire().await.expect("gate open").forget();
        }
        if self.fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
            return Err(SinkError::Unavailable("test store down".into()));
        }
        if let Some(ms) = std::str::from_utf8(&payload).ok().and_then(|p| p.strip_prefix("delay:")) {
            tokio::time::sleep(Duration::from_millis(ms.parse().unwrap())).await;
        }
        self.completed.lock().unwrap().push(payload.clone());
        if self.reject_payload.is_some_and(|r| r.as_bytes() == payload) {
            return Err(SinkError::Rejected("not JSON".into()));
        }
        self.stored.lock().unwrap().push(Stored { device: session.device_id.clone(), topic: topic.into(), payload });
        Ok(())
    }

    fn connection(&self, session: &DeviceSession, event: ConnectionEvent) {
        self.events.lock().unwrap().push((session.device_id.clone(), event));
    }
}

pub struct Running {
    pub addr: SocketAddr,
    pub handle: BrokerHandle,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Triggers shutdown and waits for `serve` to return.
    pub async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(20), &mut self.task)
            .await
            .expect("serve returns after shutdown")
            .unwrap()
            .unwrap();
    }
}

pub fn test_config() -> BrokerConfig {
    BrokerConfig {
        connect_timeout: Duration::from_secs(2),
        drain_timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

pub async fn start<A: DeviceAuth, S: MeasureSink>(cfg: BrokerConfig, auth: Arc<A>, sink: Arc<S>) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let broker = Broker::new(cfg, auth, sink);
    let handle = broker.handle();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(broker.serve(listener, async {
        let _ = stopped.await;
    }));
    Running { addr, handle, stop: Some(stop), task }
}

/// Runs mosquitto_pub (or _sub) with these arguments against 127.0.0.1:port.
pub async fn mosquitto_client(bin: &str, port: u16, args: &[&str]) -> Output {
    require(bin);
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()]).args(args).kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(20), cmd.output()).await.expect("mosquitto client finished").unwrap()
}

pub enum Recv {
    Packet(Packet),
    Closed,
    Timeout,
}

/// A bare 3.1.1 client: writes exactly the packets the test builds, reads exactly what comes.
pub struct RawClient {
    pub stream: TcpStream,
    buf: BytesMut,
}

impl RawClient {
    pub async fn open(addr: SocketAddr) -> Self {
        RawClient { stream: TcpStream::connect(addr).await.unwrap(), buf: BytesMut::new() }
    }

    pub async fn connect(
        addr: SocketAddr,
        client_id: &str,
        user: &str,
        pass: &str,
        clean: bool,
        keep_alive: u16,
    ) -> (Self, ConnAck) {
        let mut c = Self::open(addr).await;
        let mut connect = Connect::new(client_id);
        connect.clean_session = clean;
        connect.keep_alive = keep_alive;
        connect.set_login(user, pass);
        c.send(Packet::Connect(connect)).await;
        match c.recv(Duration::from_secs(5)).await {
            Recv::Packet(Packet::ConnAck(ack)) => (c, ack),
            Recv::Packet(p) => panic!("expected CONNACK, got {p:?}"),
            Recv::Closed => panic!("closed instead of CONNACK"),
            Recv::Timeout => panic!("no CONNACK"),
        }
    }

    pub async fn send(&mut self, p: Packet) {
        let mut out = BytesMut::new();
        p.write(&mut out, usize::MAX).unwrap();
        self.send_bytes(&out).await;
    }

    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        // The broker may already have closed; the test then looks at what it reads.
        let _ = self.stream.write_all(bytes).await;
    }

    pub async fn recv(&mut self, wait: Duration) -> Recv {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match Packet::read(&mut self.buf, 1 << 20) {
                Ok(p) => return Recv::Packet(p),
                Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => {}
                Err(e) => panic!("broker sent a malformed packet: {e}"),
            }
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => return Recv::Timeout,
                Ok(Ok(0)) | Ok(Err(_)) => return Recv::Closed,
                Ok(Ok(_)) => {}
            }
        }
    }

    /// Reads until the broker closes the connection (panics if it doesn't within `wait`).
    pub async fn expect_closed(&mut self, wait: Duration) -> Vec<Packet> {
        let mut seen = Vec::new();
        loop {
            match self.recv(wait).await {
                Recv::Packet(p) => seen.push(p),
                Recv::Closed => return seen,
                Recv::Timeout => panic!("connection still open after {wait:?}; got {seen:?}"),
            }
        }
    }
}

/// A real Mosquitto broker on a free loopback port, stopped when dropped.
pub struct Mosquitto {
    pub port: u16,
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    pub async fn start() -> Self {
        Self::start_with("").await
    }

    /// With extra lines for the listener (TLS files…).
    pub async fn start_with(listener_conf: &str) -> Self {
        require(MOSQUITTO);
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                // `user root`: run as root, Mosquitto would otherwise switch to its own user before
                // reading the TLS files, which a clone under /root does not let it read.
                "listener {port} 127.0.0.1\n{listener_conf}\nuser root\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type error\n"
            ),
        )
        .unwrap();
        let child = tokio::process::Command::new(MOSQUITTO)
            .arg("-c")
            .arg(&conf)
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start mosquitto");
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Mosquitto { port, child, _dir: dir };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("mosquitto did not listen on {port}");
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
