//! E-mail against a real SMTP server (Debian's python3-aiosmtpd), decoded by Python's own
//! e-mail parser so the encoding is checked by a reader other than lettre.

use haidang_notify::{Address, Channel, EmailChannel, MaildirChannel, Notice, Security, SmtpSettings};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FROM: &str = "Hải Đăng <noreply@haidang.example>";
const SUBJECT: &str = "Phản ánh PA-2025-000123 đã được tiếp nhận — cảm ơn ông/bà";
const TEXT: &str = "Kính gửi ông/bà Nguyễn Thị Hương,\n\nPhản ánh về đèn đường hỏng ở phường Pleiku đã được \
                    chuyển cho UBND phường xử lý trước 17:00 ngày 12/3/2025.\n\nTrân trọng,\nTrung tâm IOC tỉnh Gia Lai\n";

/// Debian's interpreter, where apt installs python3-aiosmtpd (a pyenv `python3` may not see it).
fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("haidang-notify-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts aiosmtpd storing mail in the Maildir `dir` (which must not exist yet: Python's
/// `mailbox.Maildir` only creates `new/`, `cur/` and `tmp/` along with the directory itself),
/// and waits until it accepts connections.
fn start_smtp(dir: &Path) -> (Server, u16) {
    let check = Command::new(python()).args(["-c", "import aiosmtpd"]).output().expect("python3 runs");
    assert!(
        check.status.success(),
        "python3-aiosmtpd is missing: install it with `apt-get install python3-aiosmtpd` \
         (scripts/test-all.sh does). {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let port = free_port();
    let child = Command::new(python())
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("aiosmtpd starts");
    let mut server = Server(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = server.0.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = server.0.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            panic!("aiosmtpd exited with {status}: {err}");
        }
        assert!(started.elapsed() < Duration::from_secs(15), "aiosmtpd did not listen on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

/// The headers and text of an RFC 5322 file as Python's e-mail package decodes them.
fn decode(path: &Path) -> serde_json::Value {
    let script = "import email, email.policy, json, sys\n\
                  m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n\
                  print(json.dumps({k: str(m[k]) for k in ['subject', 'from', 'to', 'references', 'in-reply-to', 'message-id']} \
                  | {'body': m.get_content(), 'type': m.get_content_type(), 'charset': m.get_content_charset()}))";
    let out = Command::new(python()).args(["-c", script]).arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

fn notice() -> Notice {
    Notice {
        to: Address::Email("Nguyễn Thị Hương <huong@example.vn>".into()),
        subject: SUBJECT.into(),
        text: TEXT.into(),
        reference: Some("PA-2025-000123".into()),
    }
}

fn assert_vietnamese_notice(mail: &serde_json::Value) {
    assert_eq!(mail["subject"], SUBJECT);
    assert_eq!(mail["from"], FROM);
    assert_eq!(mail["to"], "Nguyễn Thị Hương <huong@example.vn>");
    assert_eq!(mail["type"], "text/plain");
    assert_eq!(mail["charset"], "utf-8");
    assert_eq!(mail["body"].as_str().unwrap().replace("\r\n", "\n"), TEXT);
    assert_eq!(mail["references"], "<PA-2025-000123@haidang.example>");
    assert_eq!(mail["in-reply-to"], "<PA-2025-000123@haidang.example>");
    assert!(mail["message-id"].as_str().unwrap().ends_with("@haidang.example>"), "{mail}");
}

fn settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port: Some(port),
        security: Security::None,
        username: None,
        password: None,
        from: FROM.into(),
        timeout: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn vietnamese_notice_arrives_through_a_real_smtp_server() {
    let dir = scratch("smtp");
    let mailbox = dir.join("mailbox");
    let (_server, port) = start_smtp(&mailbox);
    let channel = EmailChannel::new(&settings(port)).unwrap();
    channel.send(&notice()).await.unwrap();

    let arrived = files_in(&mailbox.join("new"));
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    assert_vietnamese_notice(&decode(&arrived[0]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_refused_connection_is_a_temporary_error() {
    let channel = EmailChannel::new(&settings(free_port())).unwrap();
    let e = channel.send(&notice()).await.unwrap_err();
    assert!(!e.permanent, "{e:?}");
}

#[tokio::test]
async fn maildir_channel_writes_the_same_message_as_a_whole_file() {
    let dir = scratch("maildir");
    let out = dir.join("mail");
    let channel = MaildirChannel::new(&out, FROM).unwrap();
    channel.send(&notice()).await.unwrap();
    channel.send(&notice()).await.unwrap();

    let files = files_in(&out);
    assert_eq!(files.len(), 2, "{files:?}");
    for f in &files {
        assert_eq!(f.extension().and_then(|e| e.to_str()), Some("eml"), "no temporary file left: {f:?}");
        assert_vietnamese_notice(&decode(f));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
