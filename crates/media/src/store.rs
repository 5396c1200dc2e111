//! Content-addressed files under `<data-dir>/media`: `ab/<sha256>.<ext>` and
//! `ab/<sha256>.thumb.jpg`, where `ab` is the hash's first two digits (keeping directories
//! small). Files never change once written, which is what lets a backup copy them after the
//! database snapshot without a lock.
//!
//! All calls block on the filesystem: run them in a blocking task.

use crate::prepare::sha256_hex;
use crate::{MediaError, MediaType, Prepared};
use std::collections::HashSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

const TEMP_PREFIX: &str = ".tmp-";
const THUMB_SUFFIX: &str = "thumb.jpg";
const TYPES: [MediaType; 4] = [MediaType::Jpeg, MediaType::Png, MediaType::Webp, MediaType::Mp4];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Original,
    /// Always a JPEG.
    Thumb,
}

/// What [`MediaStore::put`] stored, for the database row that references it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMedia {
    pub sha256: String,
    pub media_type: MediaType,
    pub size: u64,
    pub has_thumb: bool,
}

#[derive(Debug)]
pub struct MediaStore {
    root: PathBuf,
    /// Orders `put`'s "already there, mark it fresh" against `sweep`'s "old and unreferenced,
    /// delete", so a sweep never deletes a file a request has just decided to reuse.
    reuse: Mutex<()>,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MediaError + '_ {
    move |e| MediaError::Io(path.to_owned(), e)
}

/// A hash is used as a file name only when it is exactly 64 lowercase hex digits, so no
/// request can name a path outside the store.
fn check_sha(sha: &str) -> Result<&str, MediaError> {
    if sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(sha)
    } else {
        Err(MediaError::BadId(sha.chars().take(80).collect()))
    }
}

fn sync_dir(dir: &Path) -> Result<(), MediaError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

impl MediaStore {
    /// Opens (creating if needed) the store rooted at `dir`.
    pub fn open(dir: &Path) -> Result<Self, MediaError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        Ok(Self { root: dir.to_owned(), reuse: Mutex::new(()) })
    }

    fn shard(&self, sha: &str) -> PathBuf {
        self.root.join(&sha[..2])
    }

    fn file(&self, sha: &str, variant: Variant, media_type: MediaType) -> PathBuf {
        let name = match variant {
            Variant::Original => format!("{sha}.{}", media_type.extension()),
            Variant::Thumb => format!("{sha}.{THUMB_SUFFIX}"),
        };
        self.shard(sha).join(name)
    }

    /// Writes the file and its thumbnail durably. Storing the same content again writes nothing
    /// and marks the existing files fresh (see [`sweep`](Self::sweep)).
    pub fn put(&self, prepared: &Prepared) -> Result<StoredMedia, MediaError> {
        let sha = check_sha(&prepared.sha256)?;
        // The name is the promise that the content is what it says; a mismatch would be served
        // under the wrong name forever.
        if sha256_hex(&prepared.bytes) != sha {
            return Err(MediaError::Corrupt("the SHA-256 does not match the bytes".into()));
        }
        let shard = self.shard(sha);
        if !shard.is_dir() {
            fs::create_dir_all(&shard).map_err(io(&shard))?;
            sync_dir(&self.root)?;
        }
        // The thumbnail first: an original on disk then always has its thumbnail beside it.
        if let Some(thumb) = &prepared.thumbnail {
            self.write_once(&self.file(sha, Variant::Thumb, MediaType::Jpeg), thumb)?;
        }
        self.write_once(&self.file(sha, Variant::Original, prepared.media_type), &prepared.bytes)?;
        Ok(StoredMedia {
            sha256: sha.to_owned(),
            media_type: prepared.media_type,
            size: prepared.bytes.len() as u64,
            has_thumb: prepared.thumbnail.is_some(),
        })
    }

    fn write_once(&self, path: &Path, bytes: &[u8]) -> Result<(), MediaError> {
        {
            let _guard = self.reuse.lock().unwrap_or_else(|e| e.into_inner());
            match File::options().write(true).open(path) {
                Ok(existing) => return existing.set_modified(SystemTime::now()).map_err(io(path)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(path)(e)),
            }
        }
        let dir = path.parent().expect("media files live in a shard directory");
        let name = path.file_name().and_then(|n| n.to_str()).expect("media file names are ASCII");
        let temp = dir.join(format!(
            "{TEMP_PREFIX}{name}-{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = File::create_new(&temp).and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| fs::rename(&temp, path)) {
            let _ = fs::remove_file(&temp);
            return Err(io(path)(e));
        }
        sync_dir(dir)
    }

    /// The file on disk and its type, for streaming it.
    pub fn path(&self, sha: &str, variant: Variant) -> Result<(PathBuf, MediaType), MediaError> {
        let sha = check_sha(sha)?;
        let candidates: &[MediaType] = match variant {
            Variant::Original => &TYPES,
            Variant::Thumb => &[MediaType::Jpeg],
        };
        candidates
            .iter()
            .map(|t| (self.file(sha, variant, *t), *t))
            .find(|(path, _)| path.is_file())
            .ok_or(MediaError::NotFound)
    }

    pub fn read(&self, sha: &str, variant: Variant) -> Result<Vec<u8>, MediaError> {
        let (path, _) = self.path(sha, variant)?;
        fs::read(&path).map_err(io(&path))
    }

    /// Deletes the file and its thumbnail; says whether there was anything to delete.
    pub fn remove(&self, sha: &str) -> Result<bool, MediaError> {
        let sha = check_sha(sha)?;
        let mut removed = false;
        let paths = TYPES.iter().map(|t| self.file(sha, Variant::Original, *t));
        for path in paths.chain([self.file(sha, Variant::Thumb, MediaType::Jpeg)]) {
            match fs::remove_file(&path) {
                Ok(()) => removed = true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path)(e)),
            }
        }
        Ok(removed)
    }

    /// Deletes files no database row references and last written before `older_than`, with
    /// temporary files left by a crash; returns how many files went. Files are written before
    /// the transaction that references them commits, so `older_than` must be earlier than the
    /// start of any request still in flight (an hour ago is ample). Names the store did not
    /// write are left alone.
    pub fn sweep(&self, referenced: &HashSet<String>, older_than: SystemTime) -> Result<usize, MediaError> {
        let mut count = 0;
        for shard in fs::read_dir(&self.root).map_err(io(&self.root))? {
            let shard = shard.map_err(io(&self.root))?;
            let shard_name = shard.file_name();
            let Some(prefix) = shard_name.to_str().filter(|n| n.len() == 2) else { continue };
            if !shard.file_type().map_err(io(&shard.path()))?.is_dir() {
                continue;
            }
            let dir = shard.path();
            for entry in fs::read_dir(&dir).map_err(io(&dir))? {
                let entry = entry.map_err(io(&dir))?;
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                let orphan = name.starts_with(TEMP_PREFIX)
                    || owner(name).is_some_and(|sha| sha.starts_with(prefix) && !referenced.contains(sha));
                if !orphan {
                    continue;
                }
                let path = entry.path();
                let _guard = self.reuse.lock().unwrap_or_else(|e| e.into_inner());
                let modified = match fs::symlink_metadata(&path).and_then(|m| m.modified()) {
                    Ok(modified) => modified,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io(&path)(e)),
                };
                if modified < older_than {
                    match fs::remove_file(&path) {
                        Ok(()) => count += 1,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io(&path)(e)),
                    }
                }
            }
        }
        Ok(count)
    }
}

/// The hash a stored file's name belongs to, if the name is one the store writes.
fn owner(name: &str) -> Option<&str> {
    let (sha, suffix) = name.split_at_checked(64)?;
    let suffix = suffix.strip_prefix('.')?;
    let known = suffix == THUMB_SUFFIX || TYPES.iter().any(|t| t.extension() == suffix);
    (known && check_sha(sha).is_ok()).then_some(sha)
}
