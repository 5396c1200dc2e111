//! One device connection: CONNECT and authentication, then a loop that reads packets, pipelines
//! publishes into the sink, and writes acks in arrival order as commits complete.

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use futures_util::FutureExt;
use futures_util::stream::{FuturesOrdered, StreamExt};
use rumqttc::mqttbytes::v4::{
    ConnAck, Connect, ConnectReturnCode, Packet, PubAck, PubComp, PubRec, Publish, SubAck, SubscribeReasonCode,
    UnsubAck,
};
use rumqttc::mqttbytes::{Error as CodecError, Protocol, QoS};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::broker::Shared;
use crate::registry::{Claim, Live, SessionState};
use crate::{ConnectionEvent, DeviceAuth, DeviceSession, DisconnectReason, MeasureSink, Refusal, SinkError, topic};

/// Subscriptions one session may hold; its filters all sit under one prefix, so a handful is plenty
/// and the cap keeps a misbehaving device from growing the broker's memory.
const MAX_SUBSCRIPTIONS: usize = 32;

/// How many bytes a read asks for at least.
const READ_CHUNK: usize = 8 * 1024;

enum Opening {
    Connect(Connect),
    Refuse(ConnectReturnCode, &'static str),
    Close(String),
}

/// The outcome of one sink call, taken in arrival order.
struct Done {
    qos: QoS,
    pkid: u16,
    result: Result<(), SinkError>,
}

type SinkFuture = Pin<Box<dyn Future<Output = Done> + Send>>;

/// Serves one accepted connection until it closes. Never panics on what the peer sends: every
/// byte goes through the codec's checked reads, and every error closes the connection.
pub(crate) async fn run<A, S, IO>(
    shared: Arc<Shared<A, S>>,
    mut io: IO,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
) where
    A: DeviceAuth,
    S: MeasureSink,
    IO: AsyncRead + AsyncWrite + Unpin + Send,
{
    let cfg = &shared.cfg;
    let conn_id = shared.conn_id();
    let mut buf = BytesMut::with_capacity(READ_CHUNK);

    let opening = tokio::select! {
        opened = tokio::time::timeout(cfg.connect_timeout, read_connect(&mut io, &mut buf, cfg.max_packet_bytes)) => {
            opened.unwrap_or_else(|_| Opening::Close("no CONNECT within the connect timeout".into()))
        }
        _ = stop.wait_for(|s| *s) => Opening::Close("broker shutting down".into()),
    };
    let connect = match opening {
        Opening::Connect(c) => c,
        Opening::Refuse(code, why) => {
            tracing::info!(%peer, why, "MQTT CONNECT refused");
            refuse(&mut io, code, cfg.write_timeout).await;
            return;
        }
        Opening::Close(why) => {
            tracing::debug!(%peer, why, "MQTT connection closed before CONNECT");
            return;
        }
    };

    let client_id = connect.client_id.clone();
    let clean = connect.clean_session;
    if client_id.contains('\0') {
        // §1.5.3-2; it also keeps the key of id-less clients below out of any client's reach.
        tracing::info!(%peer, "MQTT CONNECT with U+0000 in its client id; closing");
        return;
    }
    if client_id.is_empty() && !clean {
        // §3.1.3-8: a persistent session needs an identifier to be found again.
        tracing::info!(%peer, "MQTT CONNECT refused: empty client id with clean_session = 0");
        refuse(&mut io, ConnectReturnCode::BadClientId, cfg.write_timeout).await;
        return;
    }
    let (username, password) = match &connect.login {
        Some(l) => {
            (Some(l.username.as_str()).filter(|u| !u.is_empty()), Some(l.password.as_bytes()).filter(|p| !p.is_empty()))
        }
        None => (None, None),
    };
    let authenticated =
        tokio::time::timeout(cfg.connect_timeout, shared.auth.authenticate(&client_id, username, password)).await;
    let session = match authenticated {
        Ok(Ok(s)) => Arc::new(s),
        Ok(Err(refusal)) => {
            let code = match &refusal {
                Refusal::BadCredentials => ConnectReturnCode::BadUserNamePassword,
                Refusal::NotAuthorized => ConnectReturnCode::NotAuthorized,
                Refusal::Unavailable(_) => ConnectReturnCode::ServiceUnavailable,
            };
            tracing::info!(%peer, client_id, username, ?refusal, "MQTT CONNECT refused");
            refuse(&mut io, code, cfg.write_timeout).await;
            return;
        }
        Err(_) => {
            tracing::warn!(%peer, client_id, "MQTT device authentication timed out");
            refuse(&mut io, ConnectReturnCode::ServiceUnavailable, cfg.write_timeout).await;
            return;
        }
    };

    // An empty client id (clean session only) gets a key no client id can equal (refused above).
    let client_key = if client_id.is_empty() { format!("\0auto-{conn_id}") } else { client_id.clone() };
    let (kick_tx, kick_rx) = oneshot::channel();
    let (deliver_tx, deliver_rx) = mpsc::channel(cfg.command_queue.max(1));
    let live = Live { conn_id, device_id: session.device_id.clone(), kick: kick_tx, deliver: deliver_tx };
    match shared.registry.claim(&client_key, live) {
        Claim::OtherDevice => {
            tracing::warn!(%peer, client_id, device = session.device_id, "MQTT client id in use by another device");
            refuse(&mut io, ConnectReturnCode::BadClientId, cfg.write_timeout).await;
            return;
        }
        Claim::Claimed(Some(kick)) => {
            // §3.1.4-2: the existing connection is closed. Waiting for it to save its session
            // means we resume the latest state (QoS 2 ids it committed meanwhile).
            let (done_tx, done_rx) = oneshot::channel();
            if kick.send(done_tx).is_ok() {
                let _ = tokio::time::timeout(cfg.drain_timeout + cfg.write_timeout, done_rx).await;
            }
        }
        Claim::Claimed(None) => {}
    }
    let resumed = shared.registry.take_session(&client_key, &session.device_id, clean);
    let session_present = resumed.is_some();

    let mut conn = Conn {
        shared: shared.clone(),
        io,
        buf,
        out: BytesMut::with_capacity(1024),
        session: session.clone(),
        inflight: FuturesOrdered::new(),
        qos2_inflight: HashSet::new(),
        state: resumed.unwrap_or_default(),
        out_pkid: 0,
        out_inflight: HashSet::new(),
        disconnecting: false,
    };
    conn.write(&Packet::ConnAck(ConnAck::new(ConnectReturnCode::Success, session_present)));
    match conn.flush().await {
        Ok(()) => {
            tracing::info!(%peer, client_id, device = session.device_id, session_present, "MQTT device connected");
            shared.sink.connection(&session, ConnectionEvent::Connected { client_id: client_id.clone(), peer });
            let keep_alive = Duration::from_secs(u64::from(connect.keep_alive)) * 3 / 2;
            let (reason, kicked) = conn.serve(keep_alive, kick_rx, deliver_rx, &mut stop).await;
            let reason = conn.finish(reason).await;
            shared.registry.release(&client_key, conn_id, &session.device_id, (!clean).then(|| conn.state.clone()));
            disconnected(&shared, &session, peer, client_id, reason);
            // The new connection waits for this drop: it resumes the session saved above, and its
            // Connected event comes after this one's Disconnected, so health pages end "connected".
            drop(kicked);
        }
        Err(reason) => {
            // Never connected as far as the device knows: no events.
            shared.registry.release(&client_key, conn_id, &session.device_id, None);
            tracing::info!(%peer, client_id, ?reason, "MQTT CONNACK could not be sent");
        }
    }
}

fn disconnected<A, S: MeasureSink>(
    shared: &Shared<A, S>,
    session: &DeviceSession,
    peer: SocketAddr,
    client_id: String,
    reason: DisconnectReason,
) {
    tracing::info!(%peer, client_id, device = session.device_id, ?reason, "MQTT device disconnected");
    shared.sink.connection(session, ConnectionEvent::Disconnected { client_id, reason });
}

async fn refuse<IO: AsyncWrite + Unpin>(io: &mut IO, code: ConnectReturnCode, write_timeout: Duration) {
    let mut out = BytesMut::with_capacity(4);
    let _ = Packet::ConnAck(ConnAck::new(code, false)).write(&mut out, usize::MAX);
    let _ = tokio::time::timeout(write_timeout, async {
        io.write_all(&out).await?;
        io.shutdown().await
    })
    .await;
}

/// Reads up to and including the CONNECT, which must come first (§3.1.0-1).
async fn read_connect<IO: AsyncRead + Unpin>(io: &mut IO, buf: &mut BytesMut, max: usize) -> Opening {
    loop {
        // Decide on the first byte, so a peer speaking another protocol is not buffered.
        if buf.first().is_some_and(|b| b >> 4 != 1) {
            return Opening::Close("first packet is not CONNECT".into());
        }
        match Packet::read(buf, max) {
            Ok(Packet::Connect(c)) if c.protocol == Protocol::V4 => return Opening::Connect(c),
            // A v5 client can't read a 3.1.1 CONNACK's refusal; closing is the v5 spec's advice
            // for a server that doesn't speak it.
            Ok(Packet::Connect(_)) => return Opening::Close("MQTT 5 CONNECT".into()),
            Ok(_) => return Opening::Close("first packet is not CONNECT".into()),
            Err(CodecError::InsufficientBytes(_)) => {}
            // MQTT 3.1 ("MQIsdp", level 3) or another level: refused with 0x01 as §3.1.2-2 asks.
            Err(CodecError::InvalidProtocol | CodecError::InvalidProtocolLevel(_)) => {
                return Opening::Refuse(ConnectReturnCode::RefusedProtocolVersion, "unacceptable protocol version");
            }
            Err(e) => return Opening::Close(format!("malformed CONNECT: {e}")),
        }
        buf.reserve(READ_CHUNK);
        match io.read_buf(buf).await {
            Ok(0) => return Opening::Close("closed before CONNECT".into()),
            Ok(_) => {}
            Err(e) => return Opening::Close(format!("read failed before CONNECT: {e}")),
        }
    }
}

struct Conn<A, S, IO> {
    shared: Arc<Shared<A, S>>,
    io: IO,
    buf: BytesMut,
    out: BytesMut,
    session: Arc<DeviceSession>,
    inflight: FuturesOrdered<SinkFuture>,
    /// QoS 2 packet ids in the sink right now: a resend meanwhile must not be stored twice.
    qos2_inflight: HashSet<u16>,
    state: SessionState,
    out_pkid: u16,
    /// Packet ids of QoS 1 commands sent and not yet PUBACKed.
    out_inflight: HashSet<u16>,
    /// DISCONNECT received: read nothing more, finish what is in flight.
    disconnecting: bool,
}

impl<A, S, IO> Conn<A, S, IO>
where
    A: DeviceAuth,
    S: MeasureSink,
    IO: AsyncRead + AsyncWrite + Unpin + Send,
{
    /// The connection's life after CONNACK. Returns why it ends and, if it was taken over, the
    /// sender the new connection waits on.
    async fn serve(
        &mut self,
        keep_alive: Duration,
        mut kick_rx: oneshot::Receiver<oneshot::Sender<()>>,
        mut deliver_rx: mpsc::Receiver<Publish>,
        stop: &mut watch::Receiver<bool>,
    ) -> (DisconnectReason, Option<oneshot::Sender<()>>) {
        let max_inflight = self.shared.cfg.max_inflight.max(1);
        let mut last_seen = Instant::now();
        // One timer, moved only when it fires: resetting it on every packet would cost a timer
        // update per message at high rates.
        let ka_timer = tokio::time::sleep(keep_alive);
        tokio::pin!(ka_timer);
        loop {
            let before = self.buf.len();
            if let Err(reason) = self.parse_buffered(max_inflight) {
                return (reason, None);
            }
            if self.buf.len() != before {
                last_seen = Instant::now();
            }
            if let Err(reason) = self.flush().await {
                return (reason, None);
            }
            if self.disconnecting {
                return (DisconnectReason::ClientDisconnect, None);
            }
            let reading = self.inflight.len() < max_inflight;
            if reading {
                self.buf.reserve(READ_CHUNK);
            }
            tokio::select! {
                biased;
                kicked = &mut kick_rx => return (DisconnectReason::TakenOver, kicked.ok()),
                _ = stop.wait_for(|s| *s) => return (DisconnectReason::ServerShutdown, None),
                Some(done) = self.inflight.next(), if !self.inflight.is_empty() => {
                    if let Err(reason) = self.on_done(done) {
                        return (reason, None);
                    }
                    // Take every other commit that is already done, so their acks share one write.
                    while let Some(Some(done)) = self.inflight.next().now_or_never() {
                        if let Err(reason) = self.on_done(done) {
                            return (reason, None);
                        }
                    }
                }
                read = self.io.read_buf(&mut self.buf), if reading => match read {
                    Ok(0) => return (DisconnectReason::ConnectionLost("closed without DISCONNECT".into()), None),
                    Ok(_) => {}
                    Err(e) => return (DisconnectReason::ConnectionLost(e.to_string()), None),
                },
                Some(publish) = deliver_rx.recv() => self.deliver(publish),
                // While the in-flight cap holds reads back, a PINGREQ may wait unread in the socket:
                // keep-alive is only judged while reading.
                () = &mut ka_timer, if reading && !keep_alive.is_zero() => {
                    let deadline = last_seen + keep_alive;
                    if Instant::now() >= deadline {
                        return (DisconnectReason::KeepAliveTimeout, None);
                    }
                    ka_timer.as_mut().reset(deadline);
                }
            }
        }
    }

    /// Lets the in-flight publishes finish and acks them (unless the device broke the protocol or
    /// the store failed), then closes. Returns the final reason.
    async fn finish(&mut self, reason: DisconnectReason) -> DisconnectReason {
        let ack = !matches!(reason, DisconnectReason::SinkUnavailable(_));
        if ack && !self.inflight.is_empty() {
            let drain_timeout = self.shared.cfg.drain_timeout;
            let drained = tokio::time::timeout(drain_timeout, async {
                while let Some(done) = self.inflight.next().await {
                    if let Err(r) = self.on_done(done) {
                        return Some(r);
                    }
                }
                None
            })
            .await;
            match drained {
                Ok(None) => {}
                Ok(Some(r)) => tracing::warn!(reason = ?r, "MQTT drain stopped: store unavailable"),
                Err(_) => {
                    tracing::warn!(left = self.inflight.len(), "MQTT drain timed out; those messages stay unacked")
                }
            }
        }
        // Dropping the rest (after a sink failure) leaves them unacked: the device resends them.
        self.inflight = FuturesOrdered::new();
        let _ = self.flush().await;
        let write_timeout = self.shared.cfg.write_timeout;
        let _ = tokio::time::timeout(write_timeout, self.io.shutdown()).await;
        reason
    }

    fn parse_buffered(&mut self, max_inflight: usize) -> Result<(), DisconnectReason> {
        let max = self.shared.cfg.max_packet_bytes;
        while !self.disconnecting && self.inflight.len() < max_inflight {
            match Packet::read(&mut self.buf, max) {
                Ok(packet) => self.on_packet(packet)?,
                Err(CodecError::InsufficientBytes(_)) => break,
                Err(e) => return Err(DisconnectReason::ProtocolViolation(e.to_string())),
            }
        }
        Ok(())
    }

    fn on_packet(&mut self, packet: Packet) -> Result<(), DisconnectReason> {
        match packet {
            Packet::Publish(p) => self.on_publish(p)?,
            Packet::PubRel(rel) => {
                self.state.qos2_committed.remove(&rel.pkid);
                // §4.3.3: PUBCOMP even for an id we don't know (already released).
                self.write(&Packet::PubComp(PubComp::new(rel.pkid)));
            }
            Packet::PubAck(ack) => {
                self.out_inflight.remove(&ack.pkid);
            }
            // We never send QoS 2, so these can only be stray; they harm nothing.
            Packet::PubRec(_) | Packet::PubComp(_) => {}
            Packet::Subscribe(sub) => {
                let mut codes = Vec::with_capacity(sub.filters.len());
                for f in sub.filters {
                    codes.push(self.subscribe(f.path, f.qos));
                }
                self.write(&Packet::SubAck(SubAck::new(sub.pkid, codes)));
            }
            Packet::Unsubscribe(unsub) => {
                self.state.subscriptions.retain(|(f, _)| !unsub.topics.contains(f));
                self.write(&Packet::UnsubAck(UnsubAck::new(unsub.pkid)));
            }
            Packet::PingReq => self.write(&Packet::PingResp),
            Packet::Disconnect => self.disconnecting = true,
            Packet::Connect(_) => return Err(DisconnectReason::ProtocolViolation("second CONNECT".into())),
            Packet::ConnAck(_) | Packet::SubAck(_) | Packet::UnsubAck(_) | Packet::PingResp => {
                return Err(DisconnectReason::ProtocolViolation("server-to-client packet from a client".into()));
            }
        }
        Ok(())
    }

    fn on_publish(&mut self, p: Publish) -> Result<(), DisconnectReason> {
        if !topic::is_valid_topic_name(&p.topic) {
            return Err(DisconnectReason::ProtocolViolation(format!("invalid topic name {:?}", p.topic)));
        }
        if !topic::may_publish(&self.session.publish_prefix, &p.topic) {
            tracing::warn!(
                device = self.session.device_id,
                topic = p.topic,
                "MQTT publish outside the device's topics"
            );
            return Err(DisconnectReason::AclViolation { topic: p.topic });
        }
        let (qos, pkid) = (p.qos, p.pkid);
        if qos == QoS::ExactlyOnce {
            if self.qos2_inflight.contains(&pkid) || self.state.qos2_committed.contains(&pkid) {
                // A resend of a message already stored or being stored: PUBREC again, in its turn.
                self.inflight.push_back(Box::pin(std::future::ready(Done { qos, pkid, result: Ok(()) })));
                return Ok(());
            }
            self.qos2_inflight.insert(pkid);
        }
        // Retain is ignored: nothing subscribes to measures here, the sink keeps the latest values.
        let sink = self.shared.sink.clone();
        let session = self.session.clone();
        self.inflight.push_back(Box::pin(async move {
            let result = sink.publish(&session, &p.topic, p.payload).await;
            Done { qos, pkid, result }
        }));
        Ok(())
    }

    /// Acts on a commit's outcome, in arrival order.
    fn on_done(&mut self, done: Done) -> Result<(), DisconnectReason> {
        match (&done.result, done.qos) {
            (Err(SinkError::Unavailable(e)), QoS::AtMostOnce) => {
                // No ack to withhold and nothing the device would resend: the message is lost,
                // as QoS 0 allows, and the device keeps its connection.
                tracing::warn!(device = self.session.device_id, error = e, "QoS 0 message dropped: store unavailable");
                return Ok(());
            }
            (Err(SinkError::Unavailable(e)), _) => return Err(DisconnectReason::SinkUnavailable(e.clone())),
            (Err(SinkError::Rejected(e)), _) => {
                tracing::debug!(device = self.session.device_id, error = e, "MQTT message rejected by the sink");
            }
            (Ok(()), _) => {}
        }
        match done.qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => self.write(&Packet::PubAck(PubAck::new(done.pkid))),
            QoS::ExactlyOnce => {
                self.qos2_inflight.remove(&done.pkid);
                self.state.qos2_committed.insert(done.pkid);
                self.write(&Packet::PubRec(PubRec::new(done.pkid)));
            }
        }
        Ok(())
    }

    fn subscribe(&mut self, filter: String, qos: QoS) -> SubscribeReasonCode {
        if !topic::may_subscribe(&self.session.subscribe_prefix, &filter) {
            tracing::info!(device = self.session.device_id, filter, "MQTT subscription refused");
            return SubscribeReasonCode::Failure;
        }
        // Commands go out at QoS 1 at most: we keep no QoS 2 outbound state.
        let granted = if qos == QoS::AtMostOnce { QoS::AtMostOnce } else { QoS::AtLeastOnce };
        let subs = &mut self.state.subscriptions;
        if let Some(existing) = subs.iter_mut().find(|(f, _)| *f == filter) {
            existing.1 = granted;
        } else if subs.len() >= MAX_SUBSCRIPTIONS {
            return SubscribeReasonCode::Failure;
        } else {
            subs.push((filter, granted));
        }
        SubscribeReasonCode::Success(granted)
    }

    fn deliver(&mut self, mut publish: Publish) {
        let Some(sub_qos) = self
            .state
            .subscriptions
            .iter()
            .filter(|(f, _)| topic::filter_matches(f, &publish.topic))
            .map(|(_, q)| *q)
            .max_by_key(|q| *q as u8)
        else {
            return;
        };
        let qos = if sub_qos == QoS::AtMostOnce || publish.qos == QoS::AtMostOnce {
            QoS::AtMostOnce
        } else {
            QoS::AtLeastOnce
        };
        publish.qos = qos;
        publish.dup = false;
        publish.retain = false;
        publish.pkid = 0;
        if qos == QoS::AtLeastOnce {
            if self.out_inflight.len() >= self.shared.cfg.max_inflight.max(1) {
                tracing::warn!(device = self.session.device_id, "MQTT command dropped: device not acking");
                return;
            }
            loop {
                self.out_pkid = self.out_pkid.wrapping_add(1).max(1);
                if self.out_inflight.insert(self.out_pkid) {
                    break;
                }
            }
            publish.pkid = self.out_pkid;
        }
        self.write(&Packet::Publish(publish));
    }

    fn write(&mut self, packet: &Packet) {
        // Only topics over 64 KiB fail to encode, and every topic written here was read from a
        // packet or checked by the codec's size limit.
        if let Err(e) = packet.write(&mut self.out, usize::MAX) {
            tracing::error!(error = %e, "MQTT packet not encodable");
        }
    }

    async fn flush(&mut self) -> Result<(), DisconnectReason> {
        if self.out.is_empty() {
            return Ok(());
        }
        let write_timeout = self.shared.cfg.write_timeout;
        match tokio::time::timeout(write_timeout, self.io.write_all(&self.out)).await {
            Ok(Ok(())) => {
                self.out.clear();
                Ok(())
            }
            Ok(Err(e)) => Err(DisconnectReason::ConnectionLost(e.to_string())),
            Err(_) => Err(DisconnectReason::ConnectionLost("write timed out: the device is not reading".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use proptest::prelude::*;
    use tokio::io::AsyncWriteExt;

    use super::*;
    use crate::registry::Registry;
    use crate::{AuthUnavailable, BrokerConfig};

    struct AnyDevice;

    impl DeviceAuth for AnyDevice {
        async fn authenticate(&self, _: &str, _: Option<&str>, _: Option<&[u8]>) -> Result<DeviceSession, Refusal> {
            Ok(DeviceSession::with_device_prefixes("d1", "t"))
        }
        async fn session_for_topic(&self, _: &str) -> Result<Option<DeviceSession>, AuthUnavailable> {
            Ok(None)
        }
    }

    struct Discard;

    impl MeasureSink for Discard {
        async fn publish(&self, _: &DeviceSession, _: &str, _: bytes::Bytes) -> Result<(), SinkError> {
            Ok(())
        }
        fn connection(&self, _: &DeviceSession, _: ConnectionEvent) {}
    }

    fn connect_bytes() -> Vec<u8> {
        let mut out = BytesMut::new();
        let mut c = Connect::new("d1");
        c.keep_alive = 0;
        c.set_login("d1", "k");
        Packet::Connect(c).write(&mut out, usize::MAX).unwrap();
        out.to_vec()
    }

    /// Feeds `input` to a connection handler over an in-memory pipe, then closes the pipe; the
    /// handler must return (not panic, not hang) while the other side reads whatever it writes.
    fn feed(input: Vec<u8>) -> Vec<u8> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let cfg = BrokerConfig {
                max_packet_bytes: 512,
                connect_timeout: Duration::from_millis(200),
                drain_timeout: Duration::from_millis(200),
                write_timeout: Duration::from_millis(200),
                ..Default::default()
            };
            let registry = Arc::new(Registry::new(cfg.session_expiry, 10));
            let shared = Arc::new(Shared {
                cfg,
                auth: Arc::new(AnyDevice),
                sink: Arc::new(Discard),
                registry,
                next_conn_id: AtomicU64::new(1),
            });
            let (server, mut client) = tokio::io::duplex(4096);
            let (_stop_tx, stop_rx) = watch::channel(false);
            let handler = tokio::spawn(run(shared, server, "127.0.0.1:1".parse().unwrap(), stop_rx));
            let (mut rd, mut wr) = tokio::io::split(&mut client);
            let writer = async {
                let _ = wr.write_all(&input).await;
                let _ = wr.shutdown().await;
            };
            let reader = async {
                let mut received = Vec::new();
                let _ = rd.read_to_end(&mut received).await;
                received
            };
            let both = async { tokio::join!(writer, reader) };
            let ((), received) =
                tokio::time::timeout(Duration::from_secs(5), both).await.expect("handler closed the pipe");
            tokio::time::timeout(Duration::from_secs(5), handler)
                .await
                .expect("handler returned")
                .expect("handler did not panic");
            received
        })
    }

    #[test]
    fn the_fuzz_harness_reaches_the_session() {
        let mut input = connect_bytes();
        input.extend([0xc0, 0x00]); // PINGREQ
        input.extend([0x32, 0x0a, 0x00, 0x06]);
        input.extend(b"devices/d1/m"[..6].iter());
        // QoS 1 PUBLISH to "device" (outside the prefix): closes after the PINGRESP.
        input.extend([0x00, 0x01, b'x', b'y']);
        assert_eq!(feed(input), vec![0x20, 0x02, 0x00, 0x00, 0xd0, 0x00]);

        let mut input = connect_bytes();
        let mut publish = BytesMut::new();
        let mut p = Publish::new("devices/d1/m", QoS::AtLeastOnce, "{}");
        p.pkid = 5;
        Packet::Publish(p).write(&mut publish, usize::MAX).unwrap();
        input.extend(publish);
        assert_eq!(feed(input), vec![0x20, 0x02, 0x00, 0x00, 0x40, 0x02, 0x00, 0x05]);
    }

    fn client_packet() -> impl Strategy<Value = Packet> {
        use rumqttc::mqttbytes::v4::{PubRel, Subscribe, SubscribeFilter, Unsubscribe};
        let topic = prop_oneof![
            Just("devices/d1/m".to_string()),
            Just("devices/d1/cmd/x".to_string()),
            Just("devices/d2/m".to_string()),
            "[a-z/+#]{0,12}",
        ];
        let qos = prop_oneof![Just(QoS::AtMostOnce), Just(QoS::AtLeastOnce), Just(QoS::ExactlyOnce)];
        let pkid = 1u16..6;
        prop_oneof![
            4 => (topic.clone(), qos.clone(), pkid.clone(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..16))
                .prop_map(|(t, q, id, dup, body)| {
                    let mut p = Publish::new(t, q, body);
                    p.pkid = if q == QoS::AtMostOnce { 0 } else { id };
                    p.dup = dup;
                    Packet::Publish(p)
                }),
            1 => (pkid.clone(), proptest::collection::vec((topic.clone(), qos), 1..3)).prop_map(|(id, fs)| {
                let mut s = Subscribe::new_many(fs.into_iter().map(|(t, q)| SubscribeFilter::new(t, q)));
                s.pkid = id;
                Packet::Subscribe(s)
            }),
            1 => (pkid.clone(), topic).prop_map(|(id, t)| Packet::Unsubscribe(Unsubscribe { pkid: id, topics: vec![t] })),
            2 => pkid.clone().prop_map(|id| Packet::PubRel(PubRel::new(id))),
            1 => pkid.prop_map(|id| Packet::PubAck(PubAck::new(id))),
            1 => Just(Packet::PingReq),
            1 => Just(Packet::Disconnect),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn random_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..2048)) {
            feed(input);
        }

        #[test]
        fn random_bytes_after_connect_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let mut input = connect_bytes();
            input.extend(tail);
            feed(input);
        }

        /// Well-formed packets of every kind a client sends, with random fields, some bytes then
        /// flipped: reaches the session logic (QoS 2 ids, subscriptions, acks) and the codec's
        /// parsers on nearly valid input.
        #[test]
        fn random_sessions_never_panic(
            packets in proptest::collection::vec(client_packet(), 0..40),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        ) {
            let mut input = connect_bytes();
            let start = input.len();
            let mut out = BytesMut::new();
            for p in packets {
                p.write(&mut out, usize::MAX).unwrap();
            }
            input.extend_from_slice(&out);
            for (at, byte) in flips {
                if input.len() > start {
                    let i = start + at.index(input.len() - start);
                    input[i] ^= byte;
                }
            }
            feed(input);
        }

        /// Random bytes shaped like packets: a valid fixed-header byte and a plausible length, so
        /// the codec's per-packet parsers are reached, not just the framing.
        #[test]
        fn random_packets_after_connect_never_panic(
            packets in proptest::collection::vec((1u8..16, any::<u8>(), proptest::collection::vec(any::<u8>(), 0..64)), 0..24)
        ) {
            let mut input = connect_bytes();
            for (kind, flags, body) in packets {
                input.push(kind << 4 | (flags & 0x0f));
                input.push(body.len() as u8);
                input.extend(body);
            }
            feed(input);
        }
    }
}
