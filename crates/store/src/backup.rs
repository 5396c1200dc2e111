//! Consistent snapshots of the store while the server runs, and their restore.
//!
//! A backup is a gzip'd tar holding `manifest.json` and `haidang.db`, a snapshot taken with
//! `VACUUM INTO` — one read transaction, so it is consistent even while writes go on. Files the
//! later modules keep beside the database (attachments) will be added to the same archive.

use crate::{DB_FILE, Store, StoreError};
use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupInfo {
    pub format: u32,
    pub created_at: DateTime<Utc>,
    pub app_version: String,
    pub bytes: u64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::Io(path.to_owned(), e)
}

impl Store {
    /// Writes a consistent snapshot to `out` (written to a temporary name, then renamed, so a
    /// crash never leaves a half archive under the final name).
    pub async fn backup(&self, out: &Path, app_version: &str) -> Result<BackupInfo, StoreError> {
        let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let snapshot = dir.join(format!(".{}.snapshot", out.file_name().and_then(|n| n.to_str()).unwrap_or("backup")));
        let _ = std::fs::remove_file(&snapshot);
        let snapshot_str = snapshot.to_str().ok_or_else(|| StoreError::Corrupt("backup path is not UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1").bind(snapshot_str).execute(&self.reader).await?;
        let bytes = std::fs::metadata(&snapshot).map_err(io(&snapshot))?.len();
        let info = BackupInfo { format: 1, created_at: self.clock.now(), app_version: app_version.to_owned(), bytes };
        let partial = out.with_extension("partial");
        let result = (|| {
            let file = File::create(&partial).map_err(io(&partial))?;
            let mut tar = tar::Builder::new(GzEncoder::new(file, Compression::fast()));
            let manifest = serde_json::to_vec_pretty(&info).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let mut header = tar::Header::new_gnu();
            header.set_size(manifest.len() as u64);
            header.set_mode(0o600);
            header.set_mtime(info.created_at.timestamp().max(0) as u64);
            header.set_cksum();
            tar.append_data(&mut header, "manifest.json", manifest.as_slice()).map_err(io(&partial))?;
            tar.append_path_with_name(&snapshot, DB_FILE).map_err(io(&snapshot))?;
            let gz = tar.into_inner().map_err(io(&partial))?;
            let file = gz.finish().map_err(io(&partial))?;
            file.sync_all().map_err(io(&partial))?;
            std::fs::rename(&partial, out).map_err(io(out))
        })();
        let _ = std::fs::remove_file(&snapshot);
        if result.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        result.map(|()| info)
    }
}

/// Restores an archive into `data_dir`, which must hold no database unless `replace` is set.
/// Only the files a backup holds are extracted; any other entry is refused.
pub fn restore_archive(archive: &Path, data_dir: &Path, replace: bool) -> Result<BackupInfo, StoreError> {
    let db = data_dir.join(DB_FILE);
    if db.exists() && !replace {
        return Err(StoreError::Conflict(format!(
            "{} already holds a database; pass --replace to overwrite it",
            data_dir.display()
        )));
    }
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let staging: PathBuf = data_dir.join(".restore");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(io(&staging))?;
    let file = File::open(archive).map_err(io(archive))?;
    let mut tar = tar::Archive::new(GzDecoder::new(file));
    let mut info: Option<BackupInfo> = None;
    let mut has_db = false;
    for entry in tar.entries().map_err(io(archive))? {
        let mut entry = entry.map_err(io(archive))?;
        let name = entry.path().map_err(io(archive))?.to_string_lossy().into_owned();
        match name.as_str() {
            "manifest.json" => {
                info = Some(
                    serde_json::from_reader(&mut entry).map_err(|e| StoreError::Corrupt(format!("manifest: {e}")))?,
                );
            }
            DB_FILE => {
                entry.unpack(staging.join(DB_FILE)).map_err(io(&staging))?;
                has_db = true;
            }
            other => return Err(StoreError::Corrupt(format!("unexpected entry {other:?} in backup"))),
        }
    }
    let info = info.ok_or_else(|| StoreError::Corrupt("the archive has no manifest.json".into()))?;
    if !has_db {
        return Err(StoreError::Corrupt("the archive has no database".into()));
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(data_dir.join(format!("{DB_FILE}{suffix}")));
    }
    std::fs::rename(staging.join(DB_FILE), &db).map_err(io(&db))?;
    let _ = std::fs::remove_dir_all(&staging);
    Ok(info)
}
