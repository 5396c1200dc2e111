//! The demo's simulated stations in Gia Lai: where they stand, what they measure, who owns
//! them, and their provisioning as devices with entities.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use haidang_api::AppState;
use haidang_devices::{DeviceId, Mapping, TopicRule};
use haidang_ngsi::{AttrKind, Attribute, Context, Entity};
use haidang_store::AuditCtx;
use haidang_store::context::{NewDevice, WriteAccess, WriteOp};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Air,
    Weather,
    RainGauge,
    /// A river gauge with Vietnam's flood alert levels I, II, III (m).
    River {
        alert_levels: [f64; 3],
    },
    WaterQuality,
    Traffic,
    Streetlight,
    WasteContainer,
}

impl Kind {
    pub fn entity_type(self) -> &'static str {
        match self {
            Kind::Air => "AirQualityObserved",
            Kind::Weather | Kind::RainGauge => "WeatherObserved",
            Kind::River { .. } => "WaterObserved",
            Kind::WaterQuality => "WaterQualityObserved",
            Kind::Traffic => "TrafficFlowObserved",
            Kind::Streetlight => "Streetlight",
            Kind::WasteContainer => "WasteContainer",
        }
    }

    /// The department that runs such stations.
    fn owner(self) -> &'static str {
        match self {
            Kind::Traffic | Kind::Streetlight => "GL-SXD",
            _ => "GL-SNNMT",
        }
    }

    /// Seconds between two readings.
    pub fn interval_secs(self) -> u64 {
        match self {
            Kind::Streetlight | Kind::WasteContainer | Kind::WaterQuality => 60,
            _ => 30,
        }
    }

    /// Stations in the field run on solar power and report their battery.
    pub fn solar(self) -> bool {
        matches!(self, Kind::Air | Kind::Weather | Kind::RainGauge | Kind::River { .. } | Kind::WaterQuality)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Station {
    pub id: &'static str,
    pub name: &'static str,
    pub kind: Kind,
    /// The commune it stands in (code), and metres east and north of the commune's centre.
    pub commune: &'static str,
    pub offset: (f64, f64),
    /// 0 highlands (Pleiku plateau), 1 coast (Quy Nhơn): weather differs.
    pub region: u64,
    /// The station's own level: typical PM2.5, pressure, river base height, road capacity…
    pub scale: f64,
}

const fn st(
    id: &'static str,
    name: &'static str,
    kind: Kind,
    commune: &'static str,
    offset: (f64, f64),
    region: u64,
    scale: f64,
) -> Station {
    Station { id, name, kind, commune, offset, region, scale }
}

const fn river(i: f64, ii: f64, iii: f64) -> Kind {
    Kind::River { alert_levels: [i, ii, iii] }
}

pub const STATIONS: &[Station] = &[
    st("aq-pleiku-01", "Quan trắc không khí Quảng trường Đại Đoàn Kết", Kind::Air, "23575", (150.0, -120.0), 0, 28.0),
    st("aq-pleiku-02", "Quan trắc không khí Hội Phú", Kind::Air, "23586", (0.0, 0.0), 0, 24.0),
    st("aq-ankhe-01", "Quan trắc không khí An Khê", Kind::Air, "23617", (0.0, 0.0), 0, 32.0),
    st("aq-quynhon-01", "Quan trắc không khí Quy Nhơn", Kind::Air, "21583", (-200.0, 150.0), 1, 22.0),
    st("aq-quynhonbac-01", "Quan trắc không khí KCN Phú Tài", Kind::Air, "21553", (0.0, 0.0), 1, 42.0),
    st("aq-hoainhon-01", "Quan trắc không khí Hoài Nhơn", Kind::Air, "21664", (0.0, 0.0), 1, 26.0),
    st("wx-pleiku-01", "Trạm khí tượng Pleiku", Kind::Weather, "23584", (0.0, 0.0), 0, 935.0),
    st("wx-quynhon-01", "Trạm khí tượng Quy Nhơn", Kind::Weather, "21592", (0.0, 0.0), 1, 1010.0),
    st("wx-ayunpa-01", "Trạm khí tượng Ayun Pa", Kind::Weather, "24044", (0.0, 0.0), 0, 990.0),
    st("rain-kbang-01", "Đo mưa Kbang", Kind::RainGauge, "23638", (0.0, 0.0), 0, 0.0),
    st("rain-iagrai-01", "Đo mưa Ia Grai", Kind::RainGauge, "23764", (0.0, 0.0), 0, 0.0),
    st("rain-tayson-01", "Đo mưa Tây Sơn", Kind::RainGauge, "21808", (0.0, 0.0), 1, 0.0),
    st("rain-phumy-01", "Đo mưa Phù Mỹ", Kind::RainGauge, "21730", (0.0, 0.0), 1, 0.0),
    st("river-ayunpa-01", "Thủy văn sông Ba tại Ayun Pa", river(3.5, 4.5, 5.5), "24044", (300.0, -200.0), 0, 1.8),
    st("river-ankhe-01", "Thủy văn sông Ba tại An Khê", river(3.0, 4.0, 5.0), "23617", (-300.0, 0.0), 0, 1.5),
    st("river-bongson-01", "Thủy văn sông Lại Giang tại Bồng Sơn", river(5.5, 6.5, 7.5), "21640", (0.0, 0.0), 1, 3.2),
    st("river-annhon-01", "Thủy văn sông Kôn tại Thạnh Hòa", river(6.0, 7.0, 8.0), "21910", (0.0, 0.0), 1, 3.9),
    st("wq-bienho-01", "Chất lượng nước Biển Hồ", Kind::WaterQuality, "23590", (0.0, 0.0), 0, 180.0),
    st("wq-hathanh-01", "Chất lượng nước sông Hà Thanh", Kind::WaterQuality, "21589", (0.0, 0.0), 1, 320.0),
    st("tf-pleiku-01", "Giao thông ngã sáu Pleiku", Kind::Traffic, "23575", (0.0, 0.0), 0, 160.0),
    st("tf-pleiku-02", "Giao thông Trường Chinh – Phù Đổng", Kind::Traffic, "23563", (0.0, 0.0), 0, 120.0),
    st("tf-quynhon-01", "Giao thông ngã ba Phú Tài", Kind::Traffic, "21553", (0.0, 0.0), 1, 180.0),
    st("tf-quynhon-02", "Giao thông Nguyễn Tất Thành", Kind::Traffic, "21583", (100.0, 0.0), 1, 140.0),
    st("sl-pleiku-01", "Đèn đường Hùng Vương 01", Kind::Streetlight, "23575", (-250.0, 60.0), 0, 0.0),
    st("sl-pleiku-02", "Đèn đường Hùng Vương 02", Kind::Streetlight, "23575", (-200.0, 60.0), 0, 0.0),
    st("sl-pleiku-03", "Đèn đường Hùng Vương 03", Kind::Streetlight, "23575", (-150.0, 60.0), 0, 0.0),
    st("sl-pleiku-04", "Đèn đường Hùng Vương 04", Kind::Streetlight, "23575", (-100.0, 60.0), 0, 0.0),
    st("sl-pleiku-05", "Đèn đường Hùng Vương 05", Kind::Streetlight, "23575", (-50.0, 60.0), 0, 0.0),
    st("sl-pleiku-06", "Đèn đường Hùng Vương 06", Kind::Streetlight, "23575", (0.0, 60.0), 0, 0.0),
    st("sl-quynhon-01", "Đèn đường An Dương Vương 01", Kind::Streetlight, "21583", (-300.0, -200.0), 1, 0.0),
    st("sl-quynhon-02", "Đèn đường An Dương Vương 02", Kind::Streetlight, "21583", (-250.0, -200.0), 1, 0.0),
    st("sl-quynhon-03", "Đèn đường An Dương Vương 03", Kind::Streetlight, "21583", (-200.0, -200.0), 1, 0.0),
    st("sl-quynhon-04", "Đèn đường An Dương Vương 04", Kind::Streetlight, "21583", (-150.0, -200.0), 1, 0.0),
    st("sl-quynhon-05", "Đèn đường An Dương Vương 05", Kind::Streetlight, "21583", (-100.0, -200.0), 1, 0.0),
    st("sl-quynhon-06", "Đèn đường An Dương Vương 06", Kind::Streetlight, "21583", (-50.0, -200.0), 1, 0.0),
    st("wc-pleiku-01", "Thùng rác chợ Pleiku", Kind::WasteContainer, "23575", (80.0, 200.0), 0, 0.045),
    st("wc-pleiku-02", "Thùng rác Công viên Diên Hồng", Kind::WasteContainer, "23563", (0.0, 0.0), 0, 0.03),
    st("wc-pleiku-03", "Thùng rác bến xe Đức Long", Kind::WasteContainer, "23584", (120.0, 0.0), 0, 0.055),
    st("wc-pleiku-04", "Thùng rác Hội Phú", Kind::WasteContainer, "23586", (-100.0, 80.0), 0, 0.035),
    st("wc-quynhon-01", "Thùng rác chợ Lớn Quy Nhơn", Kind::WasteContainer, "21583", (200.0, 100.0), 1, 0.06),
    st("wc-quynhon-02", "Thùng rác bãi biển Quy Nhơn", Kind::WasteContainer, "21583", (400.0, -100.0), 1, 0.05),
    st("wc-quynhon-03", "Thùng rác Ghềnh Ráng", Kind::WasteContainer, "21592", (0.0, 0.0), 1, 0.04),
    st("wc-quynhon-04", "Thùng rác Đống Đa", Kind::WasteContainer, "21601", (0.0, 0.0), 1, 0.03),
];

/// Marks every simulated entity: the UI shows it as simulated data.
pub const DATA_PROVIDER: &str = "Hải Đăng demo (dữ liệu mô phỏng / simulated data)";

/// A station ready to publish.
#[derive(Debug, Clone)]
pub struct Ready {
    pub index: u64,
    pub station: Station,
    pub key: String,
    /// Whether it was provisioned now (then its past is filled in).
    pub new: bool,
}

impl Station {
    pub fn entity_id(&self) -> String {
        format!("urn:ngsi-ld:{}:{}", self.kind.entity_type(), self.id)
    }

    pub fn device_entity_id(&self) -> String {
        format!("urn:ngsi-ld:Device:{}", self.id)
    }

    fn mapping(&self) -> Mapping {
        let mut mapping = Mapping::default();
        if self.kind.solar() {
            mapping.rules.push(TopicRule {
                topic: "status".into(),
                entity_id: Some(self.device_entity_id()),
                entity_type: Some("Device".into()),
                attributes: Default::default(),
                pass_through: true,
            });
        }
        mapping
    }
}

/// A station's key, derived from the data directory's demo secret, so it survives restarts
/// without being stored in clear.
fn key(secret: &str, id: &str) -> String {
    format!("hdk_demo_{}", &haidang_auth::hash_secret(&format!("{secret}:{id}"))[..40])
}

fn secret(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("demo-stations.secret");
    if let Ok(s) = std::fs::read_to_string(&path) {
        return Ok(s.trim().to_owned());
    }
    let s = haidang_auth::new_secret("").value;
    std::fs::write(&path, &s).with_context(|| format!("writing {}", path.display()))?;
    Ok(s)
}

/// Registers the stations missing from the registry, with their entities; returns them all.
pub async fn provision(state: &AppState, data_dir: &Path) -> anyhow::Result<Vec<Ready>> {
    let secret = secret(data_dir)?;
    let core = Context::core();
    let places = state.places();
    let mut ready = Vec::new();
    let mut entities = Vec::new();
    for (index, station) in STATIONS.iter().enumerate() {
        let id = DeviceId::parse(station.id).expect("station ids are device ids");
        let key = key(&secret, station.id);
        if state.store.device_credentials(&id).await?.is_some() {
            ready.push(Ready { index: index as u64, station: *station, key, new: false });
            continue;
        }
        let commune = state.store.org_unit_by_code(station.commune).await?;
        let owner = state.store.org_unit_by_code(station.kind.owner()).await?;
        let Some(centre) = commune.lon.zip(commune.lat) else { continue };
        // Offsets in metres, kept only if the point stays in the commune.
        let (lon, lat) = (
            centre.0 + station.offset.0 / (111_320.0 * centre.1.to_radians().cos()),
            centre.1 + station.offset.1 / 110_540.0,
        );
        let (lon, lat) = if places.locate(lat, lon) == Some(commune.id) { (lon, lat) } else { centre };
        state
            .store
            .create_device(
                &AuditCtx::system("demo"),
                NewDevice {
                    id,
                    tenant: String::new(),
                    name: station.name.into(),
                    model: "Hải Đăng demo station".into(),
                    owner: owner.id,
                    entity_id: station.entity_id(),
                    entity_type: core.expand(station.kind.entity_type()),
                    key_hash: haidang_auth::hash_secret(&key),
                    mapping: station.mapping(),
                    silence_secs: 5 * station.kind.interval_secs() as i64,
                    demo: true,
                },
            )
            .await?;
        let mut entity = described(station.entity_id(), station.kind.entity_type(), station.name, (lon, lat));
        if let Kind::River { alert_levels: [i, ii, iii] } = station.kind {
            let levels = Attribute {
                unit_code: Some("MTR".into()),
                ..Attribute::new(AttrKind::Property, json!({"I": i, "II": ii, "III": iii}))
            };
            entity.attrs.insert(core.expand("floodAlertLevels"), vec![levels]);
        }
        entities.push(WriteOp::Create { entity });
        if station.kind.solar() {
            entities.push(WriteOp::Create {
                entity: described(station.device_entity_id(), "Device", station.name, (lon, lat)),
            });
        }
        ready.push(Ready { index: index as u64, station: *station, key, new: true });
    }
    if !entities.is_empty() {
        let province = state.tree().roots().first().copied().context("the demo province is loaded")?;
        let access = Arc::new(WriteAccess { unit: province, scope: None, types: None });
        let results =
            haidang_api::ngsi::write(state, "", access, entities).await.map_err(|p| anyhow::anyhow!("{}", p.0))?;
        for r in results {
            if let Err(e) = r
                && e.kind != haidang_ngsi::ErrorKind::AlreadyExists
            {
                anyhow::bail!("creating a demo station's entity: {e}");
            }
        }
    }
    Ok(ready)
}

fn described(id: String, ty: &str, name: &str, (lon, lat): (f64, f64)) -> Entity {
    let core = Context::core();
    let mut e = Entity { id, types: vec![core.expand(ty)], ..Entity::default() };
    for (k, a) in [
        ("name", Attribute::new(AttrKind::Property, json!(name))),
        ("dataProvider", Attribute::new(AttrKind::Property, json!(DATA_PROVIDER))),
        ("location", Attribute::new(AttrKind::GeoProperty, json!({"type": "Point", "coordinates": [lon, lat]}))),
    ] {
        e.attrs.insert(core.expand(k), vec![a]);
    }
    e
}
