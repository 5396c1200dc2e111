//! Sources of context data, end to end. Devices over MQTT: provisioning through the HTTP API,
//! Debian's `mosquitto_pub` publishing to the embedded broker and — as a bridge — to a real
//! external Mosquitto, the measure reaching the entity and its history, per-device keys and
//! topic ACLs, health counts, silence on an injectable clock, org-unit scope of the registry.
//! Connectors: CSV and XLSX uploads mapped onto entities (all rows or none), and scheduled
//! pulls of JSON from a local HTTP server standing in for another system.

mod common;

use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use haidang::config::{ExternalBroker, Mqtt};
use haidang::mqtt::Devices;
use haidang_api::{ApiConfig, AppState};
use haidang_auth::PasswordHasher;
use haidang_core::ManualClock;
use haidang_store::Store;
use reqwest::Client;
use serde_json::{Value, json};

const TOKEN: &str = "devices-test-token";
const PLEIKU: &str = "23575";
const QUY_NHON: &str = "21583";

struct World {
    state: AppState,
    clock: ManualClock,
    url: String,
    mqtt_port: u16,
    http: Client,
    stop: tokio::sync::watch::Sender<bool>,
    broker: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

/// A demo province served in-process, with devices' measures from `mqtt`.
async fn world(mqtt: Mqtt) -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap());
    let store = Store::open(dir.path(), Arc::new(clock.clone())).await.unwrap();
    let hasher = PasswordHasher::with_params(1024, 1);
    haidang::demo::load(&store, &hasher, "demo-Password-2025", Some(TOKEN)).await.unwrap();
    let state = AppState::new(store, ApiConfig { demo: true, ..Default::default() }, hasher).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(haidang_api::serve(listener, state.clone(), std::future::pending()));
    let devices = Devices::prepare(&mqtt).await.unwrap();
    let mqtt_port = match &devices {
        Devices::Embedded(l) => l.local_addr().unwrap().port(),
        _ => 0,
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let broker = devices
        .spawn(state.clone(), async move {
            let mut rx = stopped;
            let _ = rx.wait_for(|s| *s).await;
        })
        .expect("a device source");
    let http = Client::builder().timeout(Duration::from_secs(15)).build().unwrap();
    World { state, clock, url, mqtt_port, http, stop, broker, _dir: dir }
}

fn embedded() -> Mqtt {
    Mqtt { listen: "127.0.0.1:0".into(), external: None }
}

impl World {
    async fn api(&self, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn unit_id(&self, code: &str) -> i64 {
        self.state.store.org_unit_by_code(code).await.unwrap().id.0
    }

    /// Provisions `id` in Pleiku feeding an AirQualityObserved; returns its key.
    async fn provision(&self, id: &str, extra: Value) -> String {
        let mut body = json!({"id": id, "name": format!("Trạm {id}"), "unit_id": self.unit_id(PLEIKU).await,
                              "entity_type": "AirQualityObserved", "location": {"lon": 108.0, "lat": 13.98},
                              "silence_secs": 60});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (status, created) = self.api(reqwest::Method::POST, "/api/devices", TOKEN, Some(body)).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["health"], "never_seen");
        created["key"].as_str().unwrap().to_owned()
    }

    async fn entity(&self, id: &str) -> Value {
        let (status, e) =
            self.api(reqwest::Method::GET, &format!("/ngsi-ld/v1/entities/{id}?options=keyValues"), TOKEN, None).await;
        assert_eq!(status, 200, "{e}");
        e
    }

    /// The attribute's history through the temporal API, oldest first.
    async fn history(&self, entity: &str, attr: &str) -> Vec<Value> {
        let path = format!("/ngsi-ld/v1/temporal/entities/{entity}?attrs={attr}&options=temporalValues");
        let (status, t) = self.api(reqwest::Method::GET, &path, TOKEN, None).await;
        assert_eq!(status, 200, "{t}");
        t[attr]["values"].as_array().map_or_else(Vec::new, |v| v.iter().map(|pair| pair[0].clone()).collect())
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(Duration::from_secs(15), self.broker).await.expect("broker drains").unwrap();
    }
}

async fn mosquitto_pub(port: u16, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new("/usr/bin/mosquitto_pub");
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1"]).args(args).kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(20), cmd.output()).await.expect("mosquitto_pub finished").unwrap()
}

async fn publish(port: u16, device: &str, key: &str, topic: &str, payload: &str) -> Output {
    mosquitto_pub(port, &["-i", device, "-u", device, "-P", key, "-t", topic, "-m", payload]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_pub_to_the_embedded_broker_reaches_the_entity_and_its_history() {
    let w = world(embedded()).await;
    let key = w.provision("aq-pk-01", json!({})).await;
    let entity_id = "urn:ngsi-ld:AirQualityObserved:aq-pk-01";
    // Provisioning created the entity at its place, owned by the commune it stands in.
    let e = w.entity(entity_id).await;
    assert_eq!(e["location"]["coordinates"], json!([108.0, 13.98]));

    for (i, pm25) in [31.5, 42.0, 55.5].iter().enumerate() {
        let payload =
            json!({"pm25": pm25, "temperature": 27.0 + i as f64, "ts": format!("2026-11-24T0{}:00:00+07:00", 7 + i)});
        let out = publish(w.mqtt_port, "aq-pk-01", &key, "devices/aq-pk-01/measures", &payload.to_string()).await;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // mosquitto_pub exits after the PUBACK, which comes only after the commit: the value
        // is there at once, no waiting.
        assert_eq!(w.entity(entity_id).await["pm25"], json!(pm25));
    }
    assert_eq!(w.history(entity_id, "pm25").await, vec![json!(31.5), json!(42.0), json!(55.5)]);
    assert_eq!(w.history(entity_id, "temperature").await.len(), 3);
    let (_, normalized) =
        w.api(reqwest::Method::GET, &format!("/ngsi-ld/v1/entities/{entity_id}?attrs=pm25"), TOKEN, None).await;
    assert_eq!(normalized["pm25"]["observedAt"], "2026-11-24T02:00:00.000Z");

    // A backlog array is stored reading by reading.
    let backlog = r#"[{"pm25": 20, "ts": 1795500000}, {"pm25": 21, "ts": 1795500060}]"#;
    assert!(publish(w.mqtt_port, "aq-pk-01", &key, "devices/aq-pk-01/measures", backlog).await.status.success());
    assert_eq!(w.history(entity_id, "pm25").await.len(), 5);

    // Health: 4 messages, none rejected, reporting; then a bad payload is acked, counted, shown.
    let (_, d) = w.api(reqwest::Method::GET, "/api/devices/aq-pk-01", TOKEN, None).await;
    assert_eq!(
        (d["messages"].as_i64(), d["rejected"].as_i64(), d["health"].as_str()),
        (Some(4), Some(0), Some("reporting"))
    );
    assert!(publish(w.mqtt_port, "aq-pk-01", &key, "devices/aq-pk-01/measures", "not json").await.status.success());
    let (_, d) = w.api(reqwest::Method::GET, "/api/devices/aq-pk-01", TOKEN, None).await;
    assert_eq!(d["rejected"], 1);
    assert!(d["last_error"].as_str().unwrap().contains("not JSON"), "{d}");
    assert_eq!(d["connection"]["connected"], false);
    assert_eq!(d["connection"]["last_disconnect"], "ClientDisconnect");
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_acls_disabling_and_rotation() {
    let w = world(embedded()).await;
    let key = w.provision("wl-01", json!({"entity_type": "WaterLevelObserved"})).await;
    let other = w.provision("wl-02", json!({"entity_type": "WaterLevelObserved"})).await;
    let topic = "devices/wl-01/measures";
    // Wrong key, another device's key, no key: CONNACK refused (mosquitto_pub exits non-zero).
    for k in ["hdk_wrong", other.as_str()] {
        let out = publish(w.mqtt_port, "wl-01", k, topic, r#"{"waterLevel": 1}"#).await;
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("bad user name or password"));
    }
    let out = mosquitto_pub(w.mqtt_port, &["-i", "wl-01", "-t", topic, "-m", "{}"]).await;
    assert!(!out.status.success());
    // Its own key but another device's topic: the connection is closed, nothing stored.
    let out = publish(w.mqtt_port, "wl-01", &key, "devices/wl-02/measures", r#"{"waterLevel": 9}"#).await;
    assert!(!out.status.success());
    let e = w.entity("urn:ngsi-ld:WaterLevelObserved:wl-02").await;
    assert!(e.get("waterLevel").is_none(), "{e}");

    // Disabled: refused; enabled again: accepted.
    let (s, _) = w.api(reqwest::Method::PATCH, "/api/devices/wl-01", TOKEN, Some(json!({"enabled": false}))).await;
    assert_eq!(s, 200);
    let out = publish(w.mqtt_port, "wl-01", &key, topic, r#"{"waterLevel": 1}"#).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("not authorised"), "{out:?}");
    w.api(reqwest::Method::PATCH, "/api/devices/wl-01", TOKEN, Some(json!({"enabled": true}))).await;
    assert!(publish(w.mqtt_port, "wl-01", &key, topic, r#"{"waterLevel": 1.5}"#).await.status.success());

    // A rotated key replaces the old one.
    let (s, rotated) = w.api(reqwest::Method::POST, "/api/devices/wl-01/key", TOKEN, None).await;
    assert_eq!(s, 200);
    let new_key = rotated["key"].as_str().unwrap();
    assert!(!publish(w.mqtt_port, "wl-01", &key, topic, r#"{"waterLevel": 2}"#).await.status.success());
    assert!(publish(w.mqtt_port, "wl-01", new_key, topic, r#"{"waterLevel": 2.5}"#).await.status.success());
    assert_eq!(w.entity("urn:ngsi-ld:WaterLevelObserved:wl-01").await["waterLevel"], json!(2.5));

    // A mapping renames measures and adds units; unmapped topics are rejected and counted.
    let mapping = json!({"rules": [{"topic": "measures", "passThrough": false,
        "attributes": {"h": {"attr": "waterLevel", "unitCode": "MTR"}}}]});
    let (s, body) = w.api(reqwest::Method::PATCH, "/api/devices/wl-01", TOKEN, Some(json!({"mapping": mapping}))).await;
    assert_eq!(s, 200, "{body}");
    assert!(publish(w.mqtt_port, "wl-01", new_key, topic, r#"{"h": 3.25, "noise": 1}"#).await.status.success());
    let (_, e) =
        w.api(reqwest::Method::GET, "/ngsi-ld/v1/entities/urn:ngsi-ld:WaterLevelObserved:wl-01", TOKEN, None).await;
    assert_eq!((e["waterLevel"]["value"].as_f64(), e["waterLevel"]["unitCode"].as_str()), (Some(3.25), Some("MTR")));
    assert!(e.get("noise").is_none());
    assert!(publish(w.mqtt_port, "wl-01", new_key, "devices/wl-01/status", "{}").await.status.success());
    let (_, d) = w.api(reqwest::Method::GET, "/api/devices/wl-01", TOKEN, None).await;
    assert!(d["last_error"].as_str().unwrap().contains("no mapping"), "{d}");
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_checks_input_scope_and_reports_silence() {
    let w = world(embedded()).await;
    w.provision("aq-pk-02", json!({})).await;
    // Bad input: each field named.
    let bad = json!({"id": "a/b", "name": "", "unit_id": w.unit_id(PLEIKU).await, "entity_type": "bad type",
                     "location": {"lon": 200, "lat": 0}, "silence_secs": 1,
                     "mapping": {"rules": [{"topic": "measures/#"}]}});
    let (s, p) = w.api(reqwest::Method::POST, "/api/devices", TOKEN, Some(bad)).await;
    assert_eq!(s, 422, "{p}");
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in ["id", "name", "entity_type", "location.lon", "silence_secs", "mapping.rules[0].topic"] {
        assert!(fields.contains(&f), "{f} not in {fields:?}");
    }
    let (s, _) = w
        .api(
            reqwest::Method::POST,
            "/api/devices",
            TOKEN,
            Some(json!({"id": "aq-pk-02", "name": "x",
            "unit_id": w.unit_id(PLEIKU).await, "entity_type": "AirQualityObserved"})),
        )
        .await;
    assert_eq!(s, 409);

    // Scope: Quy Nhơn's officer does not see a Pleiku device; Pleiku's does, but may not change it.
    let commune = commune_token(&w, QUY_NHON).await;
    let (s, list) = w.api(reqwest::Method::GET, "/api/devices", &commune, None).await;
    assert_eq!((s, list.as_array().unwrap().len()), (200, 0));
    assert_eq!(w.api(reqwest::Method::GET, "/api/devices/aq-pk-02", &commune, None).await.0, 404);
    let pleiku = commune_token(&w, PLEIKU).await;
    let (s, list) = w.api(reqwest::Method::GET, "/api/devices", &pleiku, None).await;
    assert_eq!((s, list.as_array().unwrap().len()), (200, 1));
    let (s, _) = w.api(reqwest::Method::PATCH, "/api/devices/aq-pk-02", &pleiku, Some(json!({"enabled": false}))).await;
    assert_eq!(s, 403);
    assert_eq!(w.api(reqwest::Method::GET, "/api/devices", "no-such-token", None).await.0, 401);

    // Silence: heard now, silent once its 60 s pass on the clock, then reported once.
    let key = {
        let (_, r) = w.api(reqwest::Method::POST, "/api/devices/aq-pk-02/key", TOKEN, None).await;
        r["key"].as_str().unwrap().to_owned()
    };
    assert!(
        publish(w.mqtt_port, "aq-pk-02", &key, "devices/aq-pk-02/measures", r#"{"pm25": 3}"#).await.status.success()
    );
    let mut silent = std::collections::HashSet::new();
    assert!(haidang::jobs::watch_devices(&w.state, &mut silent).await.unwrap().is_empty());
    let (_, list) = w.api(reqwest::Method::GET, "/api/devices?health=reporting", TOKEN, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    w.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(haidang::jobs::watch_devices(&w.state, &mut silent).await.unwrap(), vec!["aq-pk-02".to_owned()]);
    assert!(haidang::jobs::watch_devices(&w.state, &mut silent).await.unwrap().is_empty(), "reported once");
    let (_, list) = w.api(reqwest::Method::GET, "/api/devices?health=silent", TOKEN, None).await;
    assert_eq!(list[0]["id"], "aq-pk-02");
    // Every change to the registry is audited.
    let audit: Vec<String> = audited_actions(&w).await;
    for a in ["device.create", "device.rotate_key"] {
        assert!(audit.iter().any(|x| x == a), "{a} not in {audit:?}");
    }
    w.stop().await;
}

async fn audited_actions(w: &World) -> Vec<String> {
    let (s, page) = w.api(reqwest::Method::GET, "/api/audit?object_type=device", TOKEN, None).await;
    assert_eq!(s, 200, "{page}");
    page["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

/// A token of the commune's officer role: context.read in that commune only.
async fn commune_token(w: &World, code: &str) -> String {
    let body =
        json!({"name": format!("commune {code}"), "unit_id": w.unit_id(code).await, "permissions": ["context.read"]});
    let (s, t) = w.api(reqwest::Method::POST, "/api/tokens", TOKEN, Some(body)).await;
    assert_eq!(s, 201, "{t}");
    t["token"].as_str().unwrap().to_owned()
}

/// A real Mosquitto on a free port, anonymous, for the external-broker setting.
struct Mosquitto {
    port: u16,
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    async fn start() -> Mosquitto {
        let dir = tempfile::tempdir().unwrap();
        let port = common::free_port();
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\nuser root\npersistence false\n"),
        )
        .unwrap();
        let child = tokio::process::Command::new("/usr/sbin/mosquitto")
            .arg("-c")
            .arg(&conf)
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start mosquitto (apt-get install mosquitto)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Mosquitto { port, _child: child, _dir: dir };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("mosquitto did not listen on {port}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_mosquitto_feeds_the_same_entities() {
    let broker = Mosquitto::start().await;
    let external = ExternalBroker {
        host: "127.0.0.1".into(),
        port: broker.port,
        client_id: "haidang-test".into(),
        ..ExternalBroker::default()
    };
    let w = world(Mqtt { listen: String::new(), external: Some(external) }).await;
    w.provision("rain-01", json!({"entity_type": "WeatherObserved"})).await;
    let entity_id = "urn:ngsi-ld:WeatherObserved:rain-01";
    // The external broker authenticates its publishers; Hải Đăng takes the device from the
    // topic. Publish until the bridge has subscribed, then check every value arrived in order.
    let mut sent = Vec::new();
    for i in 0..100 {
        let payload = json!({"precipitation": i});
        let out = mosquitto_pub(broker.port, &["-t", "devices/rain-01/measures", "-m", &payload.to_string()]).await;
        assert!(out.status.success());
        sent.push(json!(i));
        tokio::time::sleep(Duration::from_millis(100)).await;
        if w.entity(entity_id).await.get("precipitation").is_some() {
            break;
        }
    }
    for v in [1000, 1001, 1002] {
        let out = mosquitto_pub(
            broker.port,
            &["-t", "devices/rain-01/measures", "-m", &json!({"precipitation": v}).to_string()],
        )
        .await;
        assert!(out.status.success());
    }
    let mut history = Vec::new();
    for _ in 0..200 {
        history = w.history(entity_id, "precipitation").await;
        if history.last().and_then(Value::as_f64) == Some(1002.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last: Vec<f64> = history[history.len() - 3..].iter().filter_map(Value::as_f64).collect();
    assert_eq!(last, [1000.0, 1001.0, 1002.0]);
    assert_eq!(w.entity(entity_id).await["precipitation"], json!(1002));
    // Topics of unknown devices are dropped, not stored.
    let out = mosquitto_pub(broker.port, &["-t", "devices/ghost/measures", "-m", "{\"x\": 1}"]).await;
    assert!(out.status.success());
    w.stop().await;
}

/// The binary as a user runs it: `haidang demo --mqtt-listen`, a device provisioned, a measure
/// acknowledged to mosquitto_pub, the process killed with SIGKILL at once, and the measure still
/// there after a restart (the PUBACK came after the commit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_measure_survives_sigkill_of_the_demo_binary() {
    let dir = tempfile::tempdir().unwrap();
    let (data, log) = (dir.path().join("data"), dir.path().join("server.log"));
    let mut server = common::Server::start(&data, &log, TOKEN).await;
    let http = Client::new();
    let pleiku = server.get_json("/api/org-units/tree").await;
    let unit = pleiku.as_array().unwrap().iter().find(|u| u["code"] == PLEIKU).unwrap()["id"].clone();
    let res = http
        .post(format!("{}/api/devices", server.url))
        .bearer_auth(TOKEN)
        .json(&json!({"id": "wl-ayun-01", "name": "Trạm thủy văn Ayun", "unit_id": unit,
                      "entity_type": "WaterLevelObserved", "location": {"lon": 108.1, "lat": 13.95}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let key = res.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_owned();
    let port = server.mqtt_port();
    let out = publish(port, "wl-ayun-01", &key, "devices/wl-ayun-01/measures", r#"{"waterLevel": 4.75}"#).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    server.kill();
    let server = common::Server::start(&data, &log, TOKEN).await;
    let e = server.get_json("/ngsi-ld/v1/entities/urn:ngsi-ld:WaterLevelObserved:wl-ayun-01?options=keyValues").await;
    assert_eq!(e["waterLevel"], json!(4.75));
    // The restarted broker is on its new port and takes the device again.
    let out =
        publish(server.mqtt_port(), "wl-ayun-01", &key, "devices/wl-ayun-01/measures", r#"{"waterLevel": 4.8}"#).await;
    assert!(out.status.success());
}

/// An import connector for weather stations in a CSV/XLSX layout a department would send.
async fn import_connector(w: &World) {
    let body = json!({"id": "kttv-import", "name": "Số liệu KTTV", "unit_id": w.unit_id("GL-SNNMT").await, "kind": "import",
        "config": {"mapping": {"entityType": "WeatherObserved", "id": "urn:ngsi-ld:WeatherObserved:kttv-{Mã trạm}",
            "lon": "Kinh độ", "lat": "Vĩ độ", "observedAt": "Thời gian",
            "attributes": {"temperature": {"from": "Nhiệt độ", "unitCode": "CEL", "kind": "number"},
                           "precipitation": {"from": "Lượng mưa", "unitCode": "MMT", "kind": "number"},
                           "name": {"from": "Tên trạm", "kind": "text"}}}}});
    let (s, c) = w.api(reqwest::Method::POST, "/api/connectors", TOKEN, Some(body)).await;
    assert_eq!(s, 201, "{c}");
}

async fn upload(w: &World, content_type: &str, bytes: Vec<u8>) -> (u16, Value) {
    let res = w
        .http
        .post(format!("{}/api/connectors/kttv-import/upload", w.url))
        .bearer_auth(TOKEN)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_and_xlsx_uploads_become_entities_all_rows_or_none() {
    let w = world(embedded()).await;
    import_connector(&w).await;
    let csv = "Mã trạm;Tên trạm;Kinh độ;Vĩ độ;Thời gian;Nhiệt độ;Lượng mưa\n\
               PK01;Trạm Pleiku;108,0;13,98;2026-11-24T07:00:00+07:00;21,5;0\n\
               QN01;Trạm Quy Nhơn;109,22;13,77;2026-11-24T07:00:00+07:00;26,1;12,4\n";
    let (s, r) = upload(&w, "text/csv", csv.as_bytes().to_vec()).await;
    assert_eq!((s, r["rows"].as_u64(), r["written"].as_u64()), (201, Some(2), Some(2)), "{r}");
    let e = w.entity("urn:ngsi-ld:WeatherObserved:kttv-QN01").await;
    assert_eq!((e["temperature"].as_f64(), e["precipitation"].as_f64()), (Some(26.1), Some(12.4)));

    // A bad row: 422 naming row and column, and nothing of the file is written.
    let bad = "Mã trạm;Tên trạm;Kinh độ;Vĩ độ;Thời gian;Nhiệt độ;Lượng mưa\n\
               AK01;Trạm An Khê;108,66;13,95;2026-11-24T08:00:00+07:00;22;0\n\
               AP01;Trạm Ayun Pa;108,43;13,40;2026-11-24T08:00:00+07:00;nóng;0\n";
    let (s, p) = upload(&w, "text/csv", bad.as_bytes().to_vec()).await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["errors"][0]["field"], "rows[3].Nhiệt độ");
    let (s, _) =
        w.api(reqwest::Method::GET, "/ngsi-ld/v1/entities/urn:ngsi-ld:WeatherObserved:kttv-AK01", TOKEN, None).await;
    assert_eq!(s, 404, "the good row of a refused file is not written");

    // The same layout as XLSX, numbers as numbers.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["Mã trạm", "Tên trạm", "Kinh độ", "Vĩ độ", "Thời gian", "Nhiệt độ", "Lượng mưa"].iter().enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "AK01").unwrap();
    sheet.write_string(1, 1, "Trạm An Khê").unwrap();
    sheet.write_number(1, 2, 108.66).unwrap();
    sheet.write_number(1, 3, 13.95).unwrap();
    sheet.write_string(1, 4, "2026-11-24T08:00:00+07:00").unwrap();
    sheet.write_number(1, 5, 22.0).unwrap();
    sheet.write_number(1, 6, 3.5).unwrap();
    let xlsx = book.save_to_buffer().unwrap();
    let ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let (s, r) = upload(&w, ct, xlsx).await;
    assert_eq!((s, r["written"].as_u64()), (201, Some(1)), "{r}");
    assert_eq!(w.entity("urn:ngsi-ld:WeatherObserved:kttv-AK01").await["precipitation"], json!(3.5));

    // Health: three runs, one failure, the last one fine.
    let (_, c) = w.api(reqwest::Method::GET, "/api/connectors/kttv-import", TOKEN, None).await;
    assert_eq!((c["runs"].as_i64(), c["failures"].as_i64(), c["items"].as_i64()), (Some(3), Some(1), Some(1)), "{c}");
    assert!(c["last_error"].is_null());
    // Not a spreadsheet: 415; a commune officer cannot upload or see it.
    assert_eq!(upload(&w, "image/png", b"\x89PNG....".to_vec()).await.0, 415);
    let commune = commune_token(&w, QUY_NHON).await;
    assert_eq!(w.api(reqwest::Method::GET, "/api/connectors/kttv-import", &commune, None).await.0, 404);
    w.stop().await;
}

/// A local HTTP server answering every request with `body`, counting requests and recording
/// their headers: another system's API, as far as a pull can tell.
async fn json_server(body: String) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/quan-trac", listener.local_addr().unwrap());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 8192];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            log.lock().unwrap().push(String::from_utf8_lossy(&buf[..n]).into_owned());
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(body.as_bytes()).await;
        }
    });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_pulls_fetch_map_and_report_health() {
    let w = world(embedded()).await;
    let doc = json!({"ok": true, "data": {"tram": [
        {"ma": "BH-01", "ten": "Hồ Biển Hồ", "vitri": {"x": 108.04, "y": 14.05}, "pH": 7.4, "do": 6.8, "luc": "2026-11-24T08:00:00+07:00"},
        {"ma": "HT-01", "ten": "Sông Hà Thanh", "vitri": {"x": 109.14, "y": 13.70}, "pH": 6.1, "do": 3.2, "luc": "2026-11-24T08:00:00+07:00"},
        {"ten": "thiếu mã"}
    ]}});
    let (url, seen) = json_server(doc.to_string()).await;
    let config = json!({"url": url, "everySecs": 300, "headers": {"X-Api-Key": "bi-mat"}, "items": "/data/tram",
        "mapping": {"entityType": "WaterQualityObserved", "id": "urn:ngsi-ld:WaterQualityObserved:{ma}",
            "lon": "/vitri/x", "lat": "/vitri/y", "observedAt": "luc",
            "attributes": {"pH": {"from": "pH"}, "O2": {"from": "do", "unitCode": "M1"}, "name": {"from": "ten"}}}});
    let body = json!({"id": "stnmt-wq", "name": "Quan trắc nước Sở NN&MT", "unit_id": w.unit_id("GL-SNNMT").await,
                      "kind": "pull", "config": config});
    let (s, c) = w.api(reqwest::Method::POST, "/api/connectors", TOKEN, Some(body)).await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["config"]["headers"]["X-Api-Key"], "••••", "keys are not shown back");

    // Due now (never run): the scheduler's pass pulls it; not again before everySecs.
    assert_eq!(haidang::jobs::run_pulls(&w.state).await.unwrap(), 1);
    assert_eq!(haidang::jobs::run_pulls(&w.state).await.unwrap(), 0);
    assert!(seen.lock().unwrap()[0].to_lowercase().contains("x-api-key: bi-mat"));
    let e = w.entity("urn:ngsi-ld:WaterQualityObserved:HT-01").await;
    assert_eq!((e["pH"].as_f64(), e["O2"].as_f64()), (Some(6.1), Some(3.2)));
    let (_, c) = w.api(reqwest::Method::GET, "/api/connectors/stnmt-wq", TOKEN, None).await;
    assert_eq!((c["runs"].as_i64(), c["items"].as_i64(), c["failures"].as_i64()), (Some(1), Some(2), Some(0)), "{c}");
    w.clock.advance(chrono::Duration::seconds(301));
    assert_eq!(haidang::jobs::run_pulls(&w.state).await.unwrap(), 1);

    // Run now, by hand: the outcome says what was refused.
    let (s, r) = w.api(reqwest::Method::POST, "/api/connectors/stnmt-wq/run", TOKEN, None).await;
    assert_eq!((s, r["written"].as_u64(), r["refused_count"].as_u64()), (200, Some(2), Some(1)), "{r}");
    assert!(r["refused"][0].as_str().unwrap().contains("ma"), "{r}");

    // A source that is down: recorded as a failure with the reason.
    let bad = json!({"config": {"url": "http://127.0.0.1:9/none", "everySecs": 60,
        "mapping": {"entityType": "WaterQualityObserved", "id": "urn:x:{a}", "attributes": {"pH": {"from": "pH"}}}}});
    let (s, _) = w.api(reqwest::Method::PATCH, "/api/connectors/stnmt-wq", TOKEN, Some(bad)).await;
    assert_eq!(s, 200);
    let (_, r) = w.api(reqwest::Method::POST, "/api/connectors/stnmt-wq/run", TOKEN, None).await;
    assert!(r["error"].as_str().unwrap().contains("127.0.0.1:9"), "{r}");
    let (_, c) = w.api(reqwest::Method::GET, "/api/connectors/stnmt-wq", TOKEN, None).await;
    assert_eq!(c["failures"], 1);
    assert!(c["last_error"].as_str().is_some());
    // Bad configurations are refused by member.
    let (s, p) = w
        .api(
            reqwest::Method::PATCH,
            "/api/connectors/stnmt-wq",
            TOKEN,
            Some(json!({"config": {"url": "ftp://x", "everySecs": 5,
            "mapping": {"entityType": "W", "id": "urn:x:{a}", "attributes": {"a": {"from": "a"}}}}})),
        )
        .await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("config.url")), "{p}");
    w.stop().await;
}
