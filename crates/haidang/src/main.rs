//! `haidang`: the one binary of the platform — server, demo, administration, backups.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use haidang::config::Config;
use haidang::{demo, import, server};
use haidang_auth::{PasswordHasher, check_policy, new_secret};
use haidang_core::{FieldCode, Role};
use haidang_store::{AuditCtx, NewUser};
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(
    name = "haidang",
    version,
    about = "Hải Đăng — open platform for a provincial Integrated Operations Center (IOC)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server with a configuration file (every setting can also come from HAIDANG_* variables).
    Serve {
        #[arg(long, env = "HAIDANG_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Load the demo province (Gia Lai) into a data directory, print the URL and logins, and serve.
    Demo {
        #[arg(long, default_value = "data-demo")]
        data: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Password of every demo account.
        #[arg(long, default_value = demo::DEFAULT_PASSWORD)]
        demo_password: String,
        /// A full-rights API token for scripts (default: a new random one, printed).
        #[arg(long)]
        demo_token: Option<String>,
        /// The API key of the demo's Open311 client (default: a new random one, printed).
        #[arg(long)]
        demo_open311_key: Option<String>,
        /// Address of the embedded MQTT broker devices publish to ("" for none).
        #[arg(long)]
        mqtt_listen: Option<String>,
        /// Do not run the simulated stations (air, weather, rivers, lamps, waste, traffic).
        #[arg(long)]
        no_simulation: bool,
        /// Optional configuration file for the other settings.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Administration: accounts, org units, roles.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Write a consistent backup of the store (safe while the server runs).
    Backup {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup into a data directory (the server must be stopped).
    Restore {
        #[arg(long)]
        data: PathBuf,
        #[arg(long = "from")]
        from: PathBuf,
        /// Overwrite the database already in the data directory.
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account with one grant. Prints a generated initial password unless one is given.
    CreateUser {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// Code of the unit the person belongs to.
        #[arg(long)]
        unit: String,
        /// administrator, leader, operator, specialist, commune_officer or soc_analyst.
        #[arg(long)]
        role: String,
        /// Code of the unit whose subtree the role covers (default: --unit).
        #[arg(long)]
        grant_unit: Option<String>,
        /// Narrow the grant to these fields (comma-separated).
        #[arg(long, value_delimiter = ',')]
        fields: Vec<String>,
        #[arg(long, env = "HAIDANG_NEW_PASSWORD")]
        password: Option<String>,
    },
    /// Set a new initial password (to be changed at next login). Prints it unless given.
    ResetPassword {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        username: String,
        #[arg(long, env = "HAIDANG_NEW_PASSWORD")]
        password: Option<String>,
    },
    /// Import org units: a province from the bundled 2025 dataset, a CSV of the province's own
    /// units, or official boundaries (GeoJSON).
    ImportUnits {
        #[arg(long)]
        data: PathBuf,
        /// Province code in the 2025 dataset (e.g. 52).
        #[arg(long, conflicts_with_all = ["csv", "boundaries"])]
        province: Option<String>,
        /// CSV: code,name,type,parent_code,lat,lon,phone,email,address.
        #[arg(long, conflicts_with = "boundaries")]
        csv: Option<PathBuf>,
        /// GeoJSON FeatureCollection with a `code` property per feature.
        #[arg(long)]
        boundaries: Option<PathBuf>,
    },
    /// List the roles and their permissions.
    ListRoles,
}

fn init_logging(format: &str, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { config } => {
            let config = Config::load(config.as_deref())?;
            init_logging(&config.log_format, &config.log_level);
            let _lock = server::lock_data_dir(&config.data_dir)?;
            let store = server::open_store(&config.data_dir).await?;
            if store.root_unit().await?.is_none() {
                tracing::warn!(
                    "the store has no province yet: run `haidang admin import-units --province CODE` to load one"
                );
            }
            let listener = bind(&config.listen).await?;
            let devices = haidang::mqtt::Devices::prepare(&config.mqtt).await?;
            tracing::info!(address = %config.listen, mqtt = %devices.describe(), "Hải Đăng is serving");
            server::run(&config, store, config.api(false), listener, devices, false).await
        }
        Command::Demo {
            data,
            listen,
            demo_password,
            demo_token,
            demo_open311_key,
            mqtt_listen,
            no_simulation,
            config,
        } => {
            let mut config = Config::load(config.as_deref())?;
            config.data_dir = data;
            config.listen = listen;
            if let Some(mqtt) = mqtt_listen {
                if !mqtt.is_empty() {
                    mqtt.parse::<std::net::SocketAddr>()
                        .context("--mqtt-listen must be IP:PORT such as 127.0.0.1:1883, or \"\" for no broker")?;
                }
                config.mqtt.listen = mqtt;
            }
            let addr = config.listen_addr()?;
            init_logging(&config.log_format, &config.log_level);
            if let Some(t) = &demo_token {
                haidang_auth::parse_api_token(t)
                    .context("--demo-token must be 8–200 characters of A–Z, a–z, 0–9, _ - . ~")?;
            }
            let _lock = server::lock_data_dir(&config.data_dir)?;
            let store = server::open_store(&config.data_dir).await?;
            let summary = demo::load(&store, &PasswordHasher::new(), &demo_password, demo_token.as_deref()).await?;
            if let Some(k) = &demo_open311_key {
                haidang_auth::parse_api_token(k)
                    .context("--demo-open311-key must be 8–200 characters of A–Z, a–z, 0–9, _ - . ~")?;
            }
            let open311_key = demo_open311_key.unwrap_or_else(|| haidang_auth::new_secret("hdo_").value);
            haidang::demo_reports::load(&store, &open311_key).await?;
            config.reports.dispatch_unit.get_or_insert_with(|| haidang::demo_reports::DISPATCH_UNIT.to_owned());
            let listener = bind(&config.listen).await?;
            let devices = haidang::mqtt::Devices::prepare(&config.mqtt).await?;
            let host = if addr.ip().is_unspecified() { "127.0.0.1".to_owned() } else { addr.ip().to_string() };
            let host = if addr.is_ipv6() { format!("[{host}]") } else { host };
            println!(
                "Hải Đăng demo — {} ({} communes, {} departments and agencies)",
                summary.province, summary.communes, summary.departments
            );
            println!("  URL:       http://{host}:{}/", addr.port());
            println!("  API docs:  http://{host}:{}/api/docs", addr.port());
            println!("  Data:      {}", config.data_dir.display());
            println!("  Logins (password: {demo_password}):");
            for (user, name) in demo::accounts() {
                println!("    {user:<11} {name}");
            }
            println!("  API token: {}", summary.token);
            println!("  Open311:   http://{host}:{}/open311/v2/services.json  api_key={open311_key}", addr.port());
            println!("  Phản ánh / report a problem: http://{host}:{}/p/new", addr.port());
            println!("  NGSI-LD:   http://{host}:{}/ngsi-ld/v1/entities", addr.port());
            println!("  MQTT:      {}", devices.describe());
            if !no_simulation && matches!(devices, haidang::mqtt::Devices::Embedded(_)) {
                println!(
                    "  Trạm mô phỏng / simulated stations: {} in Gia Lai publishing over MQTT (dữ liệu mô phỏng / simulated data)",
                    haidang::simulator::stations::STATIONS.len()
                );
            }
            println!(
                "Dữ liệu minh họa / demo data: departments' codes, people and rosters are invented; communes are official."
            );
            server::run(&config, store, config.api(true), listener, devices, !no_simulation).await
        }
        Command::Admin { command } => admin(command).await,
        Command::Backup { data, out } => {
            let store = existing_store(&data).await?;
            let info = store.backup(&out, env!("CARGO_PKG_VERSION")).await?;
            println!(
                "backup written to {} ({} bytes of database, taken {})",
                out.display(),
                info.bytes,
                info.created_at.to_rfc3339()
            );
            Ok(())
        }
        Command::Restore { data, from, replace } => {
            let _lock = server::lock_data_dir(&data)?;
            let info = haidang_store::restore_archive(&from, &data, replace)?;
            // Opening applies any migrations newer than the backup.
            server::open_store(&data).await?.close().await;
            println!(
                "restored {} (taken {}, version {}) into {}",
                from.display(),
                info.created_at.to_rfc3339(),
                info.app_version,
                data.display()
            );
            Ok(())
        }
    }
}

async fn bind(addr: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr}: is another program using it? Choose another with --listen or HAIDANG_LISTEN")
    })
}

async fn existing_store(data: &Path) -> anyhow::Result<haidang_store::Store> {
    if !data.join(haidang_store::DB_FILE).exists() {
        bail!("{} holds no Hải Đăng database; pass the data directory of an installation with --data", data.display());
    }
    server::open_store(data).await
}

fn new_password(given: Option<String>, username: &str) -> anyhow::Result<(String, bool)> {
    match given {
        Some(p) => {
            check_policy(&p, username)?;
            Ok((p, false))
        }
        // 32 random URL-safe characters always satisfy the policy's classes except symbols;
        // the `-A1` suffix guarantees three classes.
        None => Ok((format!("{}-A1", &new_secret("").value[..20]), true)),
    }
}

async fn admin(command: AdminCommand) -> anyhow::Result<()> {
    let ctx = AuditCtx::system("cli");
    match command {
        AdminCommand::ListRoles => {
            for r in Role::ALL {
                let perms: Vec<&str> = r.permissions().iter().map(|p| p.as_str()).collect();
                println!(
                    "{:<16} {} / {}{}",
                    r.as_str(),
                    r.name_vi(),
                    r.name_en(),
                    if r.requires_totp() { " (two-factor)" } else { "" }
                );
                println!("{:<16} {}", "", perms.join(", "));
            }
            Ok(())
        }
        AdminCommand::CreateUser { data, username, name, unit, role, grant_unit, fields, password } => {
            let role = Role::parse(&role).with_context(|| {
                format!("unknown role {role:?}; one of {}", Role::ALL.map(|r| r.as_str()).join(", "))
            })?;
            let fields: Vec<FieldCode> = fields.iter().map(|f| FieldCode::parse(f)).collect::<Result<_, _>>()?;
            let store = existing_store(&data).await?;
            let home = store.org_unit_by_code(&unit).await.with_context(|| format!("no unit with code {unit:?}"))?;
            let grant_code = grant_unit.unwrap_or(unit);
            let grant_on = store
                .org_unit_by_code(&grant_code)
                .await
                .with_context(|| format!("no unit with code {grant_code:?}"))?;
            let (password, generated) = new_password(password, &username)?;
            let user = store
                .create_user(
                    &ctx,
                    NewUser {
                        username: username.clone(),
                        display_name: name,
                        email: None,
                        phone: None,
                        home_unit: home.id,
                        password_hash: PasswordHasher::new().hash(&password),
                        must_change_password: true,
                    },
                )
                .await?;
            store.grant(&ctx, user.id, role, grant_on.id, &fields).await?;
            println!(
                "created {username} ({}) in {}, {} on {}",
                user.display_name,
                home.name,
                role.as_str(),
                grant_on.name
            );
            if generated {
                println!("initial password (to be changed at first login): {password}");
            }
            Ok(())
        }
        AdminCommand::ResetPassword { data, username, password } => {
            let store = existing_store(&data).await?;
            let user = store.user_by_username(&username).await.with_context(|| format!("no account {username:?}"))?;
            let (password, generated) = new_password(password, &username)?;
            store.set_password(&ctx, user.id, &PasswordHasher::new().hash(&password), true, None).await?;
            println!("password of {username} reset; it must be changed at next login");
            if generated {
                println!("new initial password: {password}");
            }
            Ok(())
        }
        AdminCommand::ImportUnits { data, province, csv, boundaries } => {
            let store = server::open_store(&data).await?;
            let report = match (province, csv, boundaries) {
                (Some(code), None, None) => import::import_province(&store, &ctx, &code).await?,
                (None, Some(path), None) => import::import_units_csv(&store, &ctx, &path).await?,
                (None, None, Some(path)) => import::import_boundaries(&store, &ctx, &path).await?,
                _ => bail!("give one of --province CODE, --csv FILE or --boundaries FILE"),
            };
            println!(
                "units created: {}, already present: {}, areas set: {}",
                report.created, report.existing, report.areas
            );
            Ok(())
        }
    }
}
