//! The store's own guarantees: audited writes, an append-only hash-chained log, subtree
//! queries, the time from the injected clock, backups that restore.

use chrono::TimeZone;
use haidang_core::{ManualClock, OrgUnitType};
use haidang_store::{AuditCtx, AuditFilter, Contact, NewOrgUnit, OrgUnitFilter, Store, StoreError, restore_archive};
use std::sync::Arc;

fn unit(code: &str, name: &str, t: OrgUnitType, parent: Option<haidang_core::OrgUnitId>) -> NewOrgUnit {
    NewOrgUnit {
        code: code.into(),
        name: name.into(),
        short_name: None,
        unit_type: t,
        parent_id: parent,
        lat: None,
        lon: None,
        area_km2: None,
        demo_code: false,
        contact: Contact::default(),
    }
}

async fn store_at(dir: &std::path::Path) -> (Store, ManualClock) {
    let clock = ManualClock::new(chrono::Utc.with_ymd_and_hms(2025, 7, 1, 1, 0, 0).unwrap());
    (Store::open(dir, Arc::new(clock.clone())).await.unwrap(), clock)
}

#[tokio::test]
async fn writes_are_audited_and_the_log_cannot_be_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clock) = store_at(dir.path()).await;
    let ctx = AuditCtx::system("test");
    let root = store.create_org_unit(&ctx, unit("52", "Tỉnh Gia Lai", OrgUnitType::Province, None)).await.unwrap();
    clock.advance(chrono::Duration::minutes(5));
    let ward =
        store.create_org_unit(&ctx, unit("21583", "Phường Quy Nhơn", OrgUnitType::Ward, Some(root.id))).await.unwrap();
    // A second province, a ward under a ward, a duplicate code: all refused, nothing written.
    assert!(matches!(
        store.create_org_unit(&ctx, unit("01", "Hà Nội", OrgUnitType::Province, None)).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.create_org_unit(&ctx, unit("x", "x", OrgUnitType::Ward, Some(ward.id))).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.create_org_unit(&ctx, unit("21583", "x", OrgUnitType::Ward, Some(root.id))).await,
        Err(StoreError::Conflict(_))
    ));

    let log = store.list_audit(&AuditFilter { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(log.items.len(), 2);
    assert_eq!(log.items[0].action, "org_unit.create");
    assert_eq!(log.items[0].at, clock_at(2025, 7, 1, 1, 5));
    assert!(store.verify_audit_chain().await.unwrap().ok);

    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.path().join(haidang_store::DB_FILE).display()))
        .await
        .unwrap();
    let update = sqlx::query("UPDATE audit_log SET actor_name = 'mallory' WHERE id = 1").execute(&pool).await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM audit_log").execute(&pool).await;
    assert!(delete.is_err());
    // Someone who drops the trigger to forge an entry is caught by the chain.
    sqlx::query("DROP TRIGGER audit_log_no_update").execute(&pool).await.unwrap();
    sqlx::query("UPDATE audit_log SET actor_name = 'mallory' WHERE id = 1").execute(&pool).await.unwrap();
    let check = store.verify_audit_chain().await.unwrap();
    assert!(!check.ok);
    assert_eq!(check.first_bad_id, Some(1));
}

fn clock_at(y: i32, m: u32, d: u32, h: u32, min: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

#[tokio::test]
async fn subtree_scope_and_moves() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = store_at(dir.path()).await;
    let ctx = AuditCtx::system("test");
    let root = store.create_org_unit(&ctx, unit("52", "Tỉnh Gia Lai", OrgUnitType::Province, None)).await.unwrap();
    let a = store.create_org_unit(&ctx, unit("A", "Phường A", OrgUnitType::Ward, Some(root.id))).await.unwrap();
    let b = store.create_org_unit(&ctx, unit("B", "Phường B", OrgUnitType::Ward, Some(root.id))).await.unwrap();
    let team = store.create_org_unit(&ctx, unit("A1", "Tổ 1", OrgUnitType::Division, Some(a.id))).await.unwrap();
    let sub = store.create_org_unit(&ctx, unit("A1x", "Nhóm x", OrgUnitType::Division, Some(team.id))).await.unwrap();
    let in_a = store.org_units_tree(&OrgUnitFilter { scope: Some(vec![a.id]), ..Default::default() }).await.unwrap();
    assert_eq!(in_a.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(), ["A", "A1", "A1x"]);
    // Moving a division moves its whole subtree into the other scope.
    store
        .update_org_unit(&ctx, team.id, haidang_store::OrgUnitPatch { parent_id: Some(b.id), ..Default::default() })
        .await
        .unwrap();
    let in_b = store.org_units_tree(&OrgUnitFilter { scope: Some(vec![b.id]), ..Default::default() }).await.unwrap();
    assert_eq!(in_b.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(), ["B", "A1", "A1x"]);
    assert_eq!(store.org_unit(sub.id).await.unwrap().level, 3);
    // A unit cannot move under its own descendant.
    let cyc = store
        .update_org_unit(&ctx, team.id, haidang_store::OrgUnitPatch { parent_id: Some(sub.id), ..Default::default() })
        .await;
    assert!(matches!(cyc, Err(StoreError::Invalid(_))));
    let none = store.org_units_tree(&OrgUnitFilter { scope: Some(vec![]), ..Default::default() }).await.unwrap();
    assert!(none.is_empty(), "an empty scope sees nothing");
}

#[tokio::test]
async fn backup_restores_into_a_new_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = store_at(dir.path()).await;
    let ctx = AuditCtx::system("test");
    store.create_org_unit(&ctx, unit("52", "Tỉnh Gia Lai", OrgUnitType::Province, None)).await.unwrap();
    let archive = dir.path().join("b/backup.tar.gz");
    let info = store.backup(&archive, "test").await.unwrap();
    assert!(info.bytes > 0);
    let target = tempfile::tempdir().unwrap();
    restore_archive(&archive, target.path(), false).unwrap();
    assert!(restore_archive(&archive, target.path(), false).is_err(), "refuses to overwrite without replace");
    let (restored, _) = store_at(target.path()).await;
    assert_eq!(restored.root_unit().await.unwrap().unwrap().name, "Tỉnh Gia Lai");
    assert!(restored.verify_audit_chain().await.unwrap().ok);
    // Garbage is refused without touching the target.
    let junk = dir.path().join("junk.tar.gz");
    std::fs::write(&junk, b"not a backup").unwrap();
    assert!(restore_archive(&junk, tempfile::tempdir().unwrap().path(), false).is_err());
}

#[tokio::test]
async fn backup_carries_the_attachments() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = store_at(dir.path()).await;
    let ctx = AuditCtx::system("test");
    store.create_org_unit(&ctx, unit("52", "Tỉnh Gia Lai", OrgUnitType::Province, None)).await.unwrap();
    let sha = "ab".to_owned() + &"0123456789abcdef".repeat(4)[2..];
    let photo: Vec<u8> = (0..5000u32).map(|i| (i * 31 % 251) as u8).collect();
    let shard = dir.path().join("media/ab");
    std::fs::create_dir_all(&shard).unwrap();
    std::fs::write(shard.join(format!("{sha}.jpg")), &photo).unwrap();
    std::fs::write(shard.join(format!("{sha}.thumb.jpg")), b"thumb").unwrap();
    // A write cut short by a crash: nothing references it, so it stays behind.
    std::fs::write(shard.join(format!(".tmp-{sha}.jpg-1-1")), b"partial").unwrap();

    let archive = dir.path().join("b/backup.tar.gz");
    let info = store.backup(&archive, "test").await.unwrap();
    assert_eq!((info.media_files, info.media_bytes), (2, photo.len() as u64 + 5));
    let target = tempfile::tempdir().unwrap();
    let restored_info = restore_archive(&archive, target.path(), false).unwrap();
    assert_eq!(restored_info.media_files, 2);
    let restored = target.path().join("media/ab");
    assert_eq!(std::fs::read(restored.join(format!("{sha}.jpg"))).unwrap(), photo);
    assert_eq!(std::fs::read(restored.join(format!("{sha}.thumb.jpg"))).unwrap(), b"thumb");
    assert_eq!(std::fs::read_dir(&restored).unwrap().count(), 2);
    assert!(!target.path().join(".restore").exists());
    let (reopened, _) = store_at(target.path()).await;
    assert_eq!(reopened.root_unit().await.unwrap().unwrap().name, "Tỉnh Gia Lai");
}

#[tokio::test]
async fn archives_from_before_attachments_still_restore() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = store_at(dir.path()).await;
    let ctx = AuditCtx::system("test");
    store.create_org_unit(&ctx, unit("52", "Tỉnh Gia Lai", OrgUnitType::Province, None)).await.unwrap();
    let unpacked = tempfile::tempdir().unwrap();
    let current = dir.path().join("current.tar.gz");
    store.backup(&current, "test").await.unwrap();
    restore_archive(&current, unpacked.path(), false).unwrap();

    // The first format: manifest first, then the database, no media fields.
    let old = dir.path().join("old.tar.gz");
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        std::fs::File::create(&old).unwrap(),
        flate2::Compression::fast(),
    ));
    let manifest = br#"{"format":1,"created_at":"2025-07-01T01:00:00Z","app_version":"0.1.0","bytes":1}"#;
    let mut header = tar::Header::new_gnu();
    header.set_size(manifest.len() as u64);
    header.set_mode(0o600);
    header.set_cksum();
    tar.append_data(&mut header, "manifest.json", &manifest[..]).unwrap();
    tar.append_path_with_name(unpacked.path().join(haidang_store::DB_FILE), haidang_store::DB_FILE).unwrap();
    tar.into_inner().unwrap().finish().unwrap();

    let target = tempfile::tempdir().unwrap();
    let info = restore_archive(&old, target.path(), false).unwrap();
    assert_eq!((info.format, info.media_files), (1, 0));
    assert!(!target.path().join("media").exists());
    let (restored, _) = store_at(target.path()).await;
    assert_eq!(restored.root_unit().await.unwrap().unwrap().name, "Tỉnh Gia Lai");
}
