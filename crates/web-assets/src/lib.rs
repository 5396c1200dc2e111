//! The web UI's files, embedded at build time (see `build.rs`).

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The embedded file at `path` (relative to the UI root, e.g. `assets/index-abc.js`).
pub fn get(path: &str) -> Option<&'static [u8]> {
    FILES.iter().find(|(p, _)| *p == path).map(|(_, bytes)| *bytes)
}

/// Whether the UI was built into this binary.
pub fn present() -> bool {
    get("index.html").is_some()
}
