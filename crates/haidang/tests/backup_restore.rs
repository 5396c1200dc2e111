//! Backup while the server runs, restore into a new data directory, and the restore's refusals,
//! through the real binary.

mod common;

use common::{Server, run};
use std::time::Duration;

const TOKEN: &str = "backup-test-token-0001";
const BEFORE: [&str; 3] = ["BK-BEFORE-1", "BK-BEFORE-2", "BK-BEFORE-3"];
const AFTER: &str = "BK-AFTER";
const CLI_LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_serving_then_restore_into_a_new_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, restored) = (dir.path().join("data"), dir.path().join("restored"));
    let archive = dir.path().join("backups").join("snapshot.tar.gz");
    let log = dir.path().join("server.log");
    let (data_s, restored_s, archive_s) =
        (data.to_str().unwrap(), restored.to_str().unwrap(), archive.to_str().unwrap());

    let mut server = Server::start(&data, &log, TOKEN).await;
    let parent = server.division_parent().await;
    for code in BEFORE {
        server.create_division_ok(parent, code).await;
    }

    // The backup runs while the server serves; it must not disturb it.
    let backup = run(&["backup", "--data", data_s, "--out", archive_s], CLI_LIMIT).await;
    assert!(backup.status.success(), "backup failed: {}{}", backup.stdout, backup.stderr);
    assert!(backup.stdout.contains("backup written to"), "{}", backup.stdout);
    assert!(archive.is_file(), "no archive at {}", archive.display());
    server.create_division_ok(parent, AFTER).await;

    // A restore into the running server's data directory is refused, and leaves it serving.
    let refused = run(&["restore", "--data", data_s, "--from", archive_s, "--replace"], CLI_LIMIT).await;
    assert!(!refused.status.success(), "restore under a running server succeeded: {}", refused.stdout);
    assert!(
        refused.stderr.contains("another Hải Đăng server is using") && refused.stderr.contains("stop it first"),
        "the refusal does not say why: {}",
        refused.stderr
    );
    let codes = server.unit_codes().await;
    assert!(codes.contains(AFTER), "the refused restore changed the running server's data");

    let status = server.stop().await;
    assert!(status.success(), "haidang exited with {status} after SIGTERM:\n{}", server.log_tail(40));

    // Into a directory that holds a database, only with --replace.
    let refused = run(&["restore", "--data", data_s, "--from", archive_s], CLI_LIMIT).await;
    assert!(!refused.status.success(), "restore over a database without --replace succeeded: {}", refused.stdout);
    assert!(
        refused.stderr.contains("already holds a database") && refused.stderr.contains("--replace"),
        "the refusal does not say why: {}",
        refused.stderr
    );

    let restore = run(&["restore", "--data", restored_s, "--from", archive_s], CLI_LIMIT).await;
    assert!(restore.status.success(), "restore failed: {}{}", restore.stdout, restore.stderr);
    assert!(restore.stdout.contains("restored"), "{}", restore.stdout);

    let mut server = Server::start(&restored, &log, TOKEN).await;
    let codes = server.unit_codes().await;
    for code in BEFORE {
        assert!(codes.contains(code), "{code}, created before the backup, is missing from the restore");
    }
    assert!(!codes.contains(AFTER), "{AFTER}, created after the backup, is in the restore");
    assert!(codes.contains("21583"), "the demo province's communes are missing from the restore");
    server.assert_audit_chain_ok().await;
    assert!(server.stop().await.success());

    // The original directory was left as it was by the refusals: the unit made after the
    // backup is still there. Then --replace puts the backup over it.
    let mut server = Server::start(&data, &log, TOKEN).await;
    assert!(server.unit_codes().await.contains(AFTER), "the refused restores changed the data directory");
    assert!(server.stop().await.success());
    let replace = run(&["restore", "--data", data_s, "--from", archive_s, "--replace"], CLI_LIMIT).await;
    assert!(replace.status.success(), "restore --replace failed: {}{}", replace.stdout, replace.stderr);
    let mut server = Server::start(&data, &log, TOKEN).await;
    let codes = server.unit_codes().await;
    assert!(
        BEFORE.iter().all(|c| codes.contains(*c)) && !codes.contains(AFTER),
        "restore --replace did not bring back the backup"
    );
    server.assert_audit_chain_ok().await;
    assert!(server.stop().await.success());
}
