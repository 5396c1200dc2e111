//! Builds the web UI (`web/`) with npm when its output is missing or older than its sources,
//! then embeds every file of `web/dist` into the crate.
//!
//! Cargo reruns this script only when a watched input changes, so `cargo check` and `clippy`
//! do not run npm each time. Without npm the server still builds; its UI page explains how to
//! add the web assets. `HAIDANG_SKIP_WEB_BUILD=1` skips npm even when the assets are stale.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

const INPUTS: [&str; 7] =
    ["src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json"];

fn newest(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    let mut t = meta.modified().ok()?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).ok()?.flatten() {
            if let Some(child) = newest(&entry.path()) {
                t = t.max(child);
            }
        }
    }
    Some(t)
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn run(cmd: &mut Command) -> bool {
    match cmd.status() {
        Ok(s) if s.success() => true,
        Ok(s) => {
            println!("cargo::warning=`{cmd:?}` failed with {s}");
            false
        }
        Err(e) => {
            println!("cargo::warning=could not run `{cmd:?}`: {e}");
            false
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let web = manifest.join("../../web");
    let dist = web.join("dist");
    for input in INPUTS {
        println!("cargo::rerun-if-changed={}", web.join(input).display());
    }
    println!("cargo::rerun-if-changed={}", dist.join("index.html").display());
    println!("cargo::rerun-if-env-changed=HAIDANG_SKIP_WEB_BUILD");

    let built = newest(&dist.join("index.html"));
    let sources = INPUTS.iter().filter_map(|i| newest(&web.join(i))).max();
    let stale = match (built, sources) {
        (Some(b), Some(s)) => s > b,
        (None, _) => true,
        (Some(_), None) => false,
    };
    let skip = std::env::var_os("HAIDANG_SKIP_WEB_BUILD").is_some_and(|v| v == "1");
    if stale && !skip && web.join("package.json").exists() {
        if Command::new("npm").arg("--version").output().is_ok() {
            if !web.join("node_modules").exists() {
                run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&web));
            }
            run(Command::new("npm").args(["run", "build"]).current_dir(&web));
        } else {
            println!(
                "cargo::warning=npm was not found, so the web UI is not built; the server will show a page \
                 explaining how to add it (install Node.js and npm, then rebuild)"
            );
        }
    }

    // Embed a copy taken now, so a UI rebuild running at the same time cannot pull files from
    // under the compiler.
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let copy = out_dir.join("web");
    let _ = std::fs::remove_dir_all(&copy);
    let mut list = Vec::new();
    files(&dist, &mut list);
    let mut code = String::from("pub static FILES: &[(&str, &[u8])] = &[\n");
    for path in &list {
        let rel = path.strip_prefix(&dist).unwrap_or(path).to_string_lossy().replace('\\', "/");
        let target = copy.join(&rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).expect("OUT_DIR is writable");
        }
        if std::fs::copy(path, &target).is_err() {
            continue;
        }
        code.push_str(&format!("    ({:?}, include_bytes!({:?})),\n", rel, target.to_string_lossy()));
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("assets.rs"), code).expect("OUT_DIR is writable");
}
