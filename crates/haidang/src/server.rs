//! Running the server: lock the data directory, open the store, start background jobs, serve
//! until a signal, then drain in-flight requests and close the store cleanly.

use crate::config::Config;
use anyhow::{Context, bail};
use haidang_api::{ApiConfig, AppState};
use haidang_auth::PasswordHasher;
use haidang_core::{Clock, SystemClock};
use haidang_store::Store;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Holds the data directory's lock for as long as it lives, so two servers never share one
/// store and a restore never runs under a live server.
pub struct DataLock(#[allow(dead_code)] File);

pub fn lock_data_dir(dir: &Path) -> anyhow::Result<DataLock> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating the data directory {}", dir.display()))?;
    let path = dir.join("haidang.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(DataLock(file)),
        Err(_) => bail!(
            "another Hải Đăng server is using {}; stop it first or choose another --data directory",
            dir.display()
        ),
    }
}

pub async fn open_store(dir: &Path) -> anyhow::Result<Store> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Store::open(dir, clock).await.with_context(|| format!("opening the store in {}", dir.display()))
}

/// Serves HTTP on `listener` and devices' MQTT until Ctrl-C or SIGTERM, then drains both
/// (requests answered, measures in flight committed and acknowledged) before closing the store.
pub async fn run(
    config: &Config,
    store: Store,
    api: ApiConfig,
    listener: TcpListener,
    devices: crate::mqtt::Devices,
    simulate: bool,
) -> anyhow::Result<()> {
    let state = AppState::new(store.clone(), api, PasswordHasher::new()).await?;
    let mut jobs = spawn_jobs(config, store.clone());
    if simulate && let crate::mqtt::Devices::Embedded(listener) = &devices {
        let broker = listener.local_addr()?;
        jobs.extend(
            crate::simulator::start(&state, &config.data_dir, broker).await.context("starting the demo stations")?,
        );
    }
    jobs.extend(crate::jobs::spawn(state.clone(), config.channels()?));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = move || {
        let mut rx = stopped.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let mqtt = devices.spawn(state.clone(), until_stopped());
    let served = haidang_api::serve(listener, state.clone(), async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    })
    .await;
    if let Some(mqtt) = mqtt {
        // The sender is gone once serving ended, whatever the reason: the broker drains too.
        let _ = mqtt.await;
    }
    for job in jobs {
        job.abort();
    }
    if let Err(e) = state.devices.flush(&state).await {
        tracing::warn!(error = %e, "could not record the last device activity");
    }
    served.context("serving HTTP")?;
    tracing::info!("in-flight requests and measures drained; closing the store");
    store.close().await;
    Ok(())
}

fn spawn_jobs(config: &Config, store: Store) -> Vec<tokio::task::JoinHandle<()>> {
    let mut jobs = Vec::new();
    let purge_store = store.clone();
    jobs.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match purge_store.purge_sessions().await {
                Ok(n) if n > 0 => tracing::info!(sessions = n, "purged expired sessions"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not purge sessions"),
            }
        }
    }));
    if config.backup.interval_hours > 0 {
        let dir = config.backup_dir();
        let keep = config.backup.keep;
        let every = Duration::from_secs(config.backup.interval_hours * 3600);
        jobs.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                tick.tick().await;
                match crate::backup::scheduled(&store, &dir, keep).await {
                    Ok(path) => tracing::info!(path = %path.display(), "scheduled backup written"),
                    Err(e) => tracing::error!(error = %e, "scheduled backup failed"),
                }
            }
        }));
    }
    jobs
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: no new connections; draining in-flight requests");
}
