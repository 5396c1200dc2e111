//! Configuration: a TOML file, overridden by `HAIDANG_*` environment variables
//! (`HAIDANG_LISTEN`, `HAIDANG_DATA_DIR`, `HAIDANG_SECURITY__TRUST_PROXY`, …).
//! Every setting is checked at start-up; a bad one stops the server with a message that
//! names the setting and how to fix it.

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use haidang_api::ApiConfig;
use haidang_api::reports::ReportsConfig;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the database, backups and files live.
    pub data_dir: PathBuf,
    /// Address to serve HTTP on.
    pub listen: String,
    /// The address people use (e.g. `https://ioc.example.gov.vn`); `https` marks cookies Secure.
    pub public_url: Option<String>,
    /// `text` or `json`.
    pub log_format: String,
    /// A tracing filter, e.g. `info` or `haidang=debug,info`.
    pub log_level: String,
    pub security: Security,
    pub http: Http,
    pub map: Map,
    pub backup: Backup,
    pub reports: Reports,
    pub notify: Notify,
    pub mqtt: Mqtt,
    pub ngsi: Ngsi,
}

/// NGSI-LD notifications to subscribers: how failed ones are retried.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ngsi {
    /// Milliseconds before the first retry of a failed notification; each further one waits
    /// twice as long.
    pub notify_retry_base_ms: u64,
    /// The longest wait between two retries, in seconds.
    pub notify_retry_max_secs: u64,
    /// Notifications still failing this many hours after they were queued are dropped.
    pub notify_give_up_hours: i64,
    /// Seconds a receiver has to answer.
    pub notify_timeout_secs: u64,
}

impl Default for Ngsi {
    fn default() -> Self {
        let d = haidang_api::ngsi::notifier::NotifierConfig::default();
        Self {
            notify_retry_base_ms: d.retry_base.as_millis() as u64,
            notify_retry_max_secs: d.retry_max.as_secs(),
            notify_give_up_hours: d.give_up_after.num_hours(),
            notify_timeout_secs: d.timeout.as_secs(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Reports {
    /// Code of the unit that verifies and routes citizen reports (the IOC); default: the province.
    pub dispatch_unit: Option<String>,
    pub verify_working_hours: f64,
    pub rating_days: i64,
    pub erase_contacts_after_days: i64,
    pub public_submissions_per_hour: usize,
    pub max_image_mb: u64,
    pub max_video_mb: u64,
}

impl Default for Reports {
    fn default() -> Self {
        let d = ReportsConfig::default();
        Self {
            dispatch_unit: d.dispatch_unit,
            verify_working_hours: d.verify_working_hours,
            rating_days: d.rating_days,
            erase_contacts_after_days: d.erase_contacts_after_days,
            public_submissions_per_hour: d.public_submissions_per_hour,
            max_image_mb: d.media.max_image_bytes / (1024 * 1024),
            max_video_mb: d.media.max_video_bytes / (1024 * 1024),
        }
    }
}

/// Devices' MQTT: the embedded broker, or an external broker Hải Đăng subscribes to instead.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mqtt {
    /// Address of the embedded broker (IP:PORT); empty turns it off. Ignored with `external`.
    pub listen: String,
    /// An external broker (Mosquitto, EMQX…) to take devices' measures from instead.
    pub external: Option<ExternalBroker>,
}

impl Default for Mqtt {
    fn default() -> Self {
        Self { listen: "127.0.0.1:1883".into(), external: None }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExternalBroker {
    pub host: String,
    pub port: u16,
    /// MQTT client id of Hải Đăng's persistent session on that broker.
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Topic filters to subscribe to; devices publish under `devices/{id}/…`.
    pub topics: Vec<String>,
    pub tls: bool,
    /// PEM file of the CA that signed the broker's certificate (default: the system's roots).
    pub ca_file: Option<PathBuf>,
}

impl Default for ExternalBroker {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 1883,
            client_id: "haidang".into(),
            username: None,
            password: None,
            topics: vec!["devices/+/measures".into()],
            tls: false,
            ca_file: None,
        }
    }
}

/// Where notices go: an SMTP server, or (no server) e-mail files in a directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Notify {
    pub from: String,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    /// `none`, `starttls` or `tls`.
    pub smtp_security: String,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    /// Without an SMTP host, messages are written as `.eml` files here; default `<data_dir>/outbox`.
    pub maildir: Option<PathBuf>,
}

impl Default for Notify {
    fn default() -> Self {
        Self {
            from: "Hải Đăng <noreply@haidang.invalid>".into(),
            smtp_host: None,
            smtp_port: None,
            smtp_security: "starttls".into(),
            smtp_username: None,
            smtp_password: None,
            maildir: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Security {
    pub trust_proxy: bool,
    pub session_idle_minutes: i64,
    pub lockout_failures: i64,
    pub lockout_minutes: i64,
    pub login_attempts_per_minute: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    pub max_body_bytes: usize,
    pub request_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Map {
    /// Base-map tile URL template; empty for none.
    pub tile_url: String,
    pub tile_attribution: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Backup {
    /// Hours between scheduled backups; 0 turns them off.
    pub interval_hours: u64,
    /// How many scheduled backups to keep.
    pub keep: usize,
    /// Where scheduled backups go; default `<data_dir>/backups`.
    pub dir: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            log_format: "text".into(),
            log_level: "info".into(),
            security: Security::default(),
            http: Http::default(),
            map: Map::default(),
            backup: Backup::default(),
            reports: Reports::default(),
            notify: Notify::default(),
            mqtt: Mqtt::default(),
            ngsi: Ngsi::default(),
        }
    }
}

impl Default for Security {
    fn default() -> Self {
        Self {
            trust_proxy: false,
            session_idle_minutes: 480,
            lockout_failures: 5,
            lockout_minutes: 15,
            login_attempts_per_minute: 10,
        }
    }
}

impl Default for Http {
    fn default() -> Self {
        Self { max_body_bytes: 1024 * 1024, request_timeout_secs: 30 }
    }
}

impl Default for Map {
    fn default() -> Self {
        let api = ApiConfig::default();
        Self { tile_url: api.tile_url.unwrap_or_default(), tile_attribution: api.tile_attribution }
    }
}

impl Default for Backup {
    fn default() -> Self {
        Self { interval_hours: 24, keep: 7, dir: None }
    }
}

impl Config {
    /// Reads the file (if any), then the environment; checks every setting.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                bail!("the configuration file {} does not exist; pass an existing file to --config", f.display());
            }
            figment = figment.merge(Toml::file(f));
        }
        // These HAIDANG_* variables belong to the command line and the build, not to the settings.
        figment =
            figment.merge(Env::prefixed("HAIDANG_").ignore(&["config", "new_password", "skip_web_build"]).split("__"));
        let config: Config = figment.extract().map_err(|e| {
            let mut msg = String::from("invalid configuration:");
            for err in e {
                let key = err.path.join(".");
                let env = format!("HAIDANG_{}", err.path.join("__").to_uppercase());
                msg.push_str(&format!("\n  setting `{key}`: {} (set it in the file or with {env})", err.kind));
            }
            anyhow::anyhow!(msg)
        })?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> anyhow::Result<()> {
        let mut problems = Vec::new();
        if self.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!(
                "setting `listen` = {:?} is not an address; use IP:PORT such as 0.0.0.0:8080 (HAIDANG_LISTEN)",
                self.listen
            ));
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            problems.push(format!(
                "setting `log_format` = {:?} must be \"text\" or \"json\" (HAIDANG_LOG_FORMAT)",
                self.log_format
            ));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log_level).is_err() {
            problems.push(format!(
                "setting `log_level` = {:?} is not a log filter; use e.g. \"info\" (HAIDANG_LOG_LEVEL)",
                self.log_level
            ));
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            problems.push(format!(
                "setting `public_url` = {url:?} must start with http:// or https:// (HAIDANG_PUBLIC_URL)"
            ));
        }
        if !(5..=7 * 24 * 60).contains(&self.security.session_idle_minutes) {
            problems.push("setting `security.session_idle_minutes` must be between 5 and 10080".into());
        }
        if !(1..=100).contains(&self.security.lockout_failures) {
            problems.push("setting `security.lockout_failures` must be between 1 and 100".into());
        }
        if !(1..=24 * 60).contains(&self.security.lockout_minutes) {
            problems.push("setting `security.lockout_minutes` must be between 1 and 1440".into());
        }
        if !(1..=1000).contains(&self.security.login_attempts_per_minute) {
            problems.push("setting `security.login_attempts_per_minute` must be between 1 and 1000".into());
        }
        if !(1024..=512 * 1024 * 1024).contains(&self.http.max_body_bytes) {
            problems.push("setting `http.max_body_bytes` must be between 1024 and 536870912".into());
        }
        if !(1..=3600).contains(&self.http.request_timeout_secs) {
            problems.push("setting `http.request_timeout_secs` must be between 1 and 3600".into());
        }
        let tiles = &self.map.tile_url;
        let has_placeholders = ["{z}", "{x}", "{y}"].iter().all(|p| tiles.contains(p));
        if !tiles.is_empty() && !has_placeholders {
            problems.push(format!(
                "setting `map.tile_url` = {:?} needs {{z}}, {{x}} and {{y}}, or leave it empty for no base map",
                self.map.tile_url
            ));
        }
        if self.backup.interval_hours > 0 && self.backup.keep == 0 {
            problems.push(
                "setting `backup.keep` must be at least 1 when backups are on (or set backup.interval_hours = 0)"
                    .into(),
            );
        }
        if !self.mqtt.listen.is_empty() && self.mqtt.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!(
                "setting `mqtt.listen` = {:?} is not an address; use IP:PORT such as 0.0.0.0:1883, or \"\" for no embedded broker (HAIDANG_MQTT__LISTEN)",
                self.mqtt.listen
            ));
        }
        if let Some(ext) = &self.mqtt.external {
            if ext.host.is_empty() {
                problems.push("setting `mqtt.external.host` is needed to use an external broker".into());
            }
            if ext.topics.is_empty() {
                problems.push("setting `mqtt.external.topics` needs at least one topic filter".into());
            }
            if let Some(ca) = &ext.ca_file
                && !ca.exists()
            {
                problems.push(format!("setting `mqtt.external.ca_file`: {} does not exist", ca.display()));
            }
        }
        let n = &self.ngsi;
        if !(1..=3_600_000).contains(&n.notify_retry_base_ms)
            || !(1..=86_400).contains(&n.notify_retry_max_secs)
            || !(1..=24 * 365).contains(&n.notify_give_up_hours)
            || !(1..=300).contains(&n.notify_timeout_secs)
        {
            problems.push(
                "settings `ngsi.notify_*`: retry_base_ms 1–3600000, retry_max_secs 1–86400, give_up_hours 1–8760, \
                 timeout_secs 1–300"
                    .into(),
            );
        }
        if problems.is_empty() { Ok(()) } else { bail!("invalid configuration:\n  {}", problems.join("\n  ")) }
    }

    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen.parse().with_context(|| format!("setting `listen` = {:?}", self.listen))
    }

    pub fn backup_dir(&self) -> PathBuf {
        self.backup.dir.clone().unwrap_or_else(|| self.data_dir.join("backups"))
    }

    /// The notification channels: SMTP when a host is set, otherwise `.eml` files.
    pub fn channels(&self) -> anyhow::Result<haidang_notify::Channels> {
        let n = &self.notify;
        let channels = haidang_notify::Channels::new();
        Ok(match &n.smtp_host {
            Some(host) => {
                let security = match n.smtp_security.as_str() {
                    "none" => haidang_notify::Security::None,
                    "starttls" => haidang_notify::Security::StartTls,
                    "tls" => haidang_notify::Security::Tls,
                    other => bail!("notify.smtp_security: {other:?} is not none, starttls or tls"),
                };
                let settings = haidang_notify::SmtpSettings {
                    host: host.clone(),
                    port: n.smtp_port,
                    security,
                    username: n.smtp_username.clone(),
                    password: n.smtp_password.clone(),
                    from: n.from.clone(),
                    timeout: std::time::Duration::from_secs(30),
                };
                channels.with(haidang_notify::EmailChannel::new(&settings).context("notify: SMTP settings")?)
            }
            None => {
                let dir = n.maildir.clone().unwrap_or_else(|| self.data_dir.join("outbox"));
                channels.with(haidang_notify::MaildirChannel::new(dir, &n.from).context("notify: maildir")?)
            }
        })
    }

    pub fn api(&self, demo: bool) -> ApiConfig {
        ApiConfig {
            demo,
            secure_cookies: self.public_url.as_deref().is_some_and(|u| u.starts_with("https://")),
            trust_proxy: self.security.trust_proxy,
            session_idle: chrono::Duration::minutes(self.security.session_idle_minutes),
            max_body_bytes: self.http.max_body_bytes,
            request_timeout: std::time::Duration::from_secs(self.http.request_timeout_secs),
            lockout_failures: self.security.lockout_failures,
            lockout_for: chrono::Duration::minutes(self.security.lockout_minutes),
            login_attempts_per_minute: self.security.login_attempts_per_minute,
            tile_url: (!self.map.tile_url.is_empty()).then(|| self.map.tile_url.clone()),
            tile_attribution: self.map.tile_attribution.clone(),
            public_url: self.public_url.clone(),
            reports: ReportsConfig {
                dispatch_unit: self.reports.dispatch_unit.clone(),
                verify_working_hours: self.reports.verify_working_hours,
                rating_days: self.reports.rating_days,
                erase_contacts_after_days: self.reports.erase_contacts_after_days,
                public_submissions_per_hour: self.reports.public_submissions_per_hour,
                media: haidang_media::MediaPolicy {
                    max_image_bytes: self.reports.max_image_mb * 1024 * 1024,
                    max_video_bytes: self.reports.max_video_mb * 1024 * 1024,
                    ..Default::default()
                },
                ..Default::default()
            },
            notifications: haidang_api::ngsi::notifier::NotifierConfig {
                retry_base: std::time::Duration::from_millis(self.ngsi.notify_retry_base_ms),
                retry_max: std::time::Duration::from_secs(self.ngsi.notify_retry_max_secs),
                give_up_after: chrono::Duration::hours(self.ngsi.notify_give_up_hours),
                timeout: std::time::Duration::from_secs(self.ngsi.notify_timeout_secs),
                ..Default::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "listen = \"nope\"\nlog_format = \"xml\"\n").unwrap();
        let err = Config::load(Some(&f)).unwrap_err().to_string();
        assert!(err.contains("`listen`") && err.contains("0.0.0.0:8080"), "{err}");
        assert!(err.contains("`log_format`"), "{err}");
        std::fs::write(&f, "[security]\nlockout_failures = \"many\"\n").unwrap();
        let err = Config::load(Some(&f)).unwrap_err().to_string();
        assert!(err.contains("security.lockout_failures"), "{err}");
        std::fs::write(&f, "listn = \"0.0.0.0:1\"\n").unwrap();
        let err = Config::load(Some(&f)).unwrap_err().to_string();
        assert!(err.contains("listn"), "{err}");
        assert!(Config::load(Some(&dir.path().join("missing.toml"))).is_err());
    }
}
