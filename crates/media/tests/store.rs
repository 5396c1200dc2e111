//! The media store: durable content-addressed files, reuse, orphan sweeping, and names that
//! cannot leave the store.

use haidang_media::{MediaError, MediaPolicy, MediaStore, MediaType, Prepared, Variant, prepare};
use image::codecs::png::PngEncoder;
use image::{DynamicImage, Rgb, RgbImage};
use std::collections::HashSet;
use std::time::{Duration, SystemTime};

fn photo(seed: u8) -> Prepared {
    let image = DynamicImage::ImageRgb8(RgbImage::from_fn(500, 300, |x, y| Rgb([seed, x as u8, y as u8])));
    let mut png = Vec::new();
    image.write_with_encoder(PngEncoder::new(&mut png)).unwrap();
    prepare(&png, None, &MediaPolicy::default()).unwrap()
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = walk(dir).iter().map(|p| p.strip_prefix(dir).unwrap().display().to_string()).collect();
    names.sort();
    names
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flat_map(|e| {
            let path = e.unwrap().path();
            if path.is_dir() { walk(&path) } else { vec![path] }
        })
        .collect()
}

#[test]
fn put_read_and_reuse() {
    let dir = tempfile::tempdir().unwrap();
    let store = MediaStore::open(&dir.path().join("media")).unwrap();
    let prepared = photo(1);
    let stored = store.put(&prepared).unwrap();
    assert_eq!(stored.sha256, prepared.sha256);
    assert_eq!((stored.media_type, stored.size, stored.has_thumb), (MediaType::Png, prepared.bytes.len() as u64, true));
    let sha = &prepared.sha256;
    assert_eq!(
        files_in(&dir.path().join("media")),
        [format!("{}/{sha}.png", &sha[..2]), format!("{}/{sha}.thumb.jpg", &sha[..2])]
    );
    assert_eq!(store.read(sha, Variant::Original).unwrap(), prepared.bytes);
    assert_eq!(store.read(sha, Variant::Thumb).unwrap(), *prepared.thumbnail.as_ref().unwrap());
    let (path, kind) = store.path(sha, Variant::Original).unwrap();
    assert!(path.ends_with(format!("{sha}.png")) && kind == MediaType::Png);

    // Storing the same content again changes nothing on disk.
    assert_eq!(store.put(&prepared).unwrap(), stored);
    assert_eq!(files_in(&dir.path().join("media")).len(), 2);

    assert!(store.remove(sha).unwrap());
    assert!(!store.remove(sha).unwrap());
    assert!(matches!(store.read(sha, Variant::Original), Err(MediaError::NotFound)));
}

#[test]
fn bytes_that_do_not_match_their_hash_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = MediaStore::open(dir.path()).unwrap();
    let mut prepared = photo(2);
    prepared.bytes.push(0);
    assert!(matches!(store.put(&prepared), Err(MediaError::Corrupt(_))));
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn ids_that_are_not_hashes_never_touch_the_filesystem() {
    let dir = tempfile::tempdir().unwrap();
    let store = MediaStore::open(&dir.path().join("media")).unwrap();
    std::fs::write(dir.path().join("secret.png"), b"x").unwrap();
    let upper = "A".repeat(64);
    for bad in
        ["", "../secret", "../../etc/passwd", &"a".repeat(63), &"a".repeat(65), &upper, &format!("{}/", "a".repeat(63))]
    {
        assert!(matches!(store.read(bad, Variant::Original), Err(MediaError::BadId(_))), "{bad:?}");
        assert!(matches!(store.remove(bad), Err(MediaError::BadId(_))), "{bad:?}");
    }
    let mut prepared = photo(3);
    prepared.sha256 = "../secret".into();
    assert!(matches!(store.put(&prepared), Err(MediaError::BadId(_))));
    assert!(dir.path().join("secret.png").exists());
}

#[test]
fn sweep_deletes_old_unreferenced_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("media");
    let store = MediaStore::open(&root).unwrap();
    let kept = store.put(&photo(4)).unwrap().sha256;
    let orphan = store.put(&photo(5)).unwrap().sha256;
    let crash_leftover = root.join(&orphan[..2]).join(format!(".tmp-{orphan}.png-1-1"));
    std::fs::write(&crash_leftover, b"partial").unwrap();
    let foreign = root.join(&orphan[..2]).join("README");
    std::fs::write(&foreign, b"not ours").unwrap();
    let referenced = HashSet::from([kept.clone()]);

    // Young files are spared: their request's transaction may not have committed yet.
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    assert_eq!(store.sweep(&referenced, an_hour_ago).unwrap(), 0);

    let later = SystemTime::now() + Duration::from_secs(60);
    assert_eq!(store.sweep(&referenced, later).unwrap(), 3, "the orphan, its thumbnail and the temporary file");
    assert!(store.read(&kept, Variant::Original).is_ok() && store.read(&kept, Variant::Thumb).is_ok());
    assert!(matches!(store.read(&orphan, Variant::Original), Err(MediaError::NotFound)));
    assert!(!crash_leftover.exists());
    assert!(foreign.exists(), "names the store did not write are left alone");
}

#[test]
fn reusing_an_old_file_protects_it_from_the_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let store = MediaStore::open(dir.path()).unwrap();
    let prepared = photo(6);
    let sha = store.put(&prepared).unwrap().sha256;
    let (path, _) = store.path(&sha, Variant::Original).unwrap();
    let long_ago = SystemTime::now() - Duration::from_secs(86_400);
    for variant in [Variant::Original, Variant::Thumb] {
        let (path, _) = store.path(&sha, variant).unwrap();
        std::fs::File::options().write(true).open(path).unwrap().set_modified(long_ago).unwrap();
    }
    // A new request stores the same photo; its transaction has not committed when the sweep runs.
    store.put(&prepared).unwrap();
    assert_eq!(store.sweep(&HashSet::new(), SystemTime::now() - Duration::from_secs(3600)).unwrap(), 0);
    assert!(path.exists());
}
