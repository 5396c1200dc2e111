//! Backups on demand and on a schedule, with retention.

use anyhow::Context;
use haidang_store::Store;
use std::path::{Path, PathBuf};

const PREFIX: &str = "haidang-";
const SUFFIX: &str = ".tar.gz";

/// Writes a timestamped backup into `dir` and keeps only the `keep` newest scheduled ones.
pub async fn scheduled(store: &Store, dir: &Path, keep: usize) -> anyhow::Result<PathBuf> {
    let name = format!("{PREFIX}{}{SUFFIX}", store.clock().now().format("%Y%m%dT%H%M%SZ"));
    let path = dir.join(name);
    store.backup(&path, env!("CARGO_PKG_VERSION")).await.with_context(|| format!("writing {}", path.display()))?;
    prune(dir, keep)?;
    Ok(path)
}

/// Removes all but the `keep` newest backups made by the schedule (others in `dir` are left alone).
pub fn prune(dir: &Path, keep: usize) -> anyhow::Result<Vec<PathBuf>> {
    let mut backups: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        })
        .collect();
    // Names carry a sortable UTC timestamp, so name order is age order.
    backups.sort();
    let excess = backups.len().saturating_sub(keep);
    let removed: Vec<PathBuf> = backups.into_iter().take(excess).collect();
    for p in &removed {
        std::fs::remove_file(p).with_context(|| format!("removing {}", p.display()))?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_keeps_the_newest_and_ignores_other_files() {
        let dir = tempfile::tempdir().unwrap();
        for stamp in ["20250101T000000Z", "20250102T000000Z", "20250103T000000Z"] {
            std::fs::write(dir.path().join(format!("{PREFIX}{stamp}{SUFFIX}")), b"x").unwrap();
        }
        std::fs::write(dir.path().join("manual.tar.gz"), b"x").unwrap();
        let removed = prune(dir.path(), 2).unwrap();
        assert_eq!(removed.len(), 1);
        assert!(removed[0].to_string_lossy().contains("20250101"));
        assert!(dir.path().join("manual.tar.gz").exists());
        assert!(dir.path().join(format!("{PREFIX}20250103T000000Z{SUFFIX}")).exists());
    }
}
