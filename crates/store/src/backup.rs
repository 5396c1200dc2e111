//! Consistent snapshots of the store while the server runs, and their restore.
//!
//! A backup is a gzip'd tar holding `haidang.db`, a snapshot taken with `VACUUM INTO` — one
//! read transaction, so it is consistent even while writes go on — then the attachments under
//! `media/`, then `manifest.json`. Attachments are written before the transaction that
//! references them and never change afterwards, so copying them after the snapshot captures
//! every file the snapshot references without stopping writers. Archives of format 1 (no
//! media, manifest first) restore as before.

use crate::{DB_FILE, Store, StoreError};
use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Component, Path, PathBuf};

const FORMAT: u32 = 2;
/// Where attachments live in the data directory and in the archive.
const MEDIA_DIR: &str = "media";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupInfo {
    pub format: u32,
    pub created_at: DateTime<Utc>,
    pub app_version: String,
    pub bytes: u64,
    #[serde(default)]
    pub media_files: u64,
    #[serde(default)]
    pub media_bytes: u64,
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
        let mut info = BackupInfo {
            format: FORMAT,
            created_at: self.clock.now(),
            app_version: app_version.to_owned(),
            bytes,
            media_files: 0,
            media_bytes: 0,
        };
        let partial = out.with_extension("partial");
        let result = (|| {
            // Listed after the snapshot, so every file it references is on the list.
            let media = media_files(&self.data_dir.join(MEDIA_DIR))?;
            let file = File::create(&partial).map_err(io(&partial))?;
            let mut tar = tar::Builder::new(GzEncoder::new(file, Compression::fast()));
            tar.append_path_with_name(&snapshot, DB_FILE).map_err(io(&snapshot))?;
            for (path, name) in &media {
                let mut file = match File::open(path) {
                    Ok(file) => file,
                    // Removed since it was listed: an orphan the sweep took, referenced by nothing.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io(path)(e)),
                };
                info.media_bytes += file.metadata().map_err(io(path))?.len();
                info.media_files += 1;
                tar.append_file(name, &mut file).map_err(io(path))?;
            }
            // Last, so it can count what was written.
            let manifest = serde_json::to_vec_pretty(&info).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let mut header = tar::Header::new_gnu();
            header.set_size(manifest.len() as u64);
            header.set_mode(0o600);
            header.set_mtime(info.created_at.timestamp().max(0) as u64);
            header.set_cksum();
            tar.append_data(&mut header, "manifest.json", manifest.as_slice()).map_err(io(&partial))?;
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

/// The regular files under `root` with their names in the archive (`media/ab/…`), skipping
/// the store's temporary files (names starting with a dot), which no row references.
fn media_files(root: &Path) -> Result<Vec<(PathBuf, String)>, StoreError> {
    fn walk(dir: &Path, name: &str, out: &mut Vec<(PathBuf, String)>) -> Result<(), StoreError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(dir)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(io(dir))?;
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str().filter(|n| !n.starts_with('.')) else { continue };
            let kind = entry.file_type().map_err(io(&entry.path()))?;
            let entry_name = format!("{name}/{file_name}");
            if kind.is_dir() {
                walk(&entry.path(), &entry_name, out)?;
            } else if kind.is_file() {
                out.push((entry.path(), entry_name));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, MEDIA_DIR, &mut out)?;
    Ok(out)
}

/// The path below `media/` of an archive entry, when it is one that stays inside it.
fn media_path(name: &Path) -> Option<PathBuf> {
    let rest = name.strip_prefix(MEDIA_DIR).ok()?;
    let normal = rest.components().all(|c| matches!(c, Component::Normal(_)));
    (normal && rest.components().next().is_some()).then(|| rest.to_owned())
}

/// Restores an archive into `data_dir`, which must hold no database unless `replace` is set.
/// Only the files a backup holds are extracted; any other entry is refused. Attachments are
/// added to those already in `data_dir/media` (same name, same content), and are moved in
/// before the database, so a restore cut short never leaves a database missing its files.
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
    let result = unpack(archive, &staging).and_then(|(info, media)| {
        let media_root = data_dir.join(MEDIA_DIR);
        for rel in media {
            let target = media_root.join(&rel);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::rename(staging.join(MEDIA_DIR).join(&rel), &target).map_err(io(&target))?;
        }
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(data_dir.join(format!("{DB_FILE}{suffix}")));
        }
        std::fs::rename(staging.join(DB_FILE), &db).map_err(io(&db))?;
        Ok(info)
    });
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// Extracts the archive into `staging`; returns its manifest and the attachments' paths below
/// `media/`.
fn unpack(archive: &Path, staging: &Path) -> Result<(BackupInfo, Vec<PathBuf>), StoreError> {
    let file = File::open(archive).map_err(io(archive))?;
    let mut tar = tar::Archive::new(GzDecoder::new(file));
    let mut info: Option<BackupInfo> = None;
    let mut has_db = false;
    let mut media = Vec::new();
    for entry in tar.entries().map_err(io(archive))? {
        let mut entry = entry.map_err(io(archive))?;
        let path = entry.path().map_err(io(archive))?.into_owned();
        let name = path.to_string_lossy().into_owned();
        match name.as_str() {
            "manifest.json" => {
                info = Some(
                    serde_json::from_reader(&mut entry).map_err(|e| StoreError::Corrupt(format!("manifest: {e}")))?,
                );
            }
            DB_FILE => {
                entry.unpack(staging.join(DB_FILE)).map_err(io(staging))?;
                has_db = true;
            }
            _ => {
                let rel = media_path(&path)
                    .filter(|_| entry.header().entry_type().is_file())
                    .ok_or_else(|| StoreError::Corrupt(format!("unexpected entry {name:?} in backup")))?;
                let target = staging.join(MEDIA_DIR).join(&rel);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(io(parent))?;
                }
                entry.unpack(&target).map_err(io(&target))?;
                media.push(rel);
            }
        }
    }
    let info = info.ok_or_else(|| StoreError::Corrupt("the archive has no manifest.json".into()))?;
    if info.format > FORMAT {
        return Err(StoreError::Corrupt(format!(
            "the archive has format {}, newer than this version reads ({FORMAT}); restore it with version {} or later",
            info.format, info.app_version
        )));
    }
    if !has_db {
        return Err(StoreError::Corrupt("the archive has no database".into()));
    }
    Ok((info, media))
}

#[cfg(test)]
mod tests {
    use super::media_path;
    use std::path::{Path, PathBuf};

    #[test]
    fn media_entries_stay_inside_media() {
        assert_eq!(media_path(Path::new("media/ab/x.jpg")), Some(PathBuf::from("ab/x.jpg")));
        for bad in ["media", "media/", "media/../haidang.db", "media/ab/../../etc/passwd", "/media/ab", "other/ab"] {
            assert_eq!(media_path(Path::new(bad)), None, "{bad}");
        }
    }
}
