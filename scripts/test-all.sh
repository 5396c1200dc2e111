#!/usr/bin/env bash
# Runs every test of Hải Đăng on a fresh Debian machine with the Rust toolchain, Node.js and npm:
# lints, unit and integration tests (one build profile: release), and browser tests in headless
# Chromium against a real demo server. Installs what it needs (Debian's chromium, npm packages).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

step "Tools"
# python3-aiosmtpd is the real SMTP server the haidang-notify tests send e-mail through;
# mosquitto and mosquitto-clients are the real broker and clients of the haidang-mqtt tests.
if [ ! -x /usr/bin/chromium ] || ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null \
  || [ ! -x /usr/sbin/mosquitto ] || [ ! -x /usr/bin/mosquitto_pub ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium python3-aiosmtpd mosquitto mosquitto-clients >/dev/null
  else
    echo "Chromium, python3-aiosmtpd or mosquitto is missing: run 'sudo apt-get install chromium python3-aiosmtpd mosquitto mosquitto-clients' (the browser tests need /usr/bin/chromium, the e-mail tests an SMTP server, the MQTT tests a broker and its clients)" >&2
    exit 1
  fi
fi
cargo --version
node --version
npm --version
/usr/bin/chromium --version

step "Web UI: install, lint, type-check, unit tests"
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run lint && npm run typecheck && npm test)

step "Rust: format and lints"
cargo fmt --all --check
cargo clippy --release --workspace --all-targets --locked -- -D warnings

step "Rust: unit and integration tests"
cargo test --release --workspace --locked

step "Browser end-to-end tests (headless Chromium, playwright-core)"
# `cargo test` above built target/release/haidang in the same profile; building it again with
# `-p haidang` would recompile much of the tree with other features, so it is reused as is.
test -x "$root/target/release/haidang" || cargo build --release --locked -p haidang
data=$(mktemp -d)
log="$data/server.log"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
password="demo-Password-2025"
# The browser tests log in dozens of times a minute from one address: lift the login rate limit
# for this server only (lock-out after wrong passwords stays on).
HAIDANG_SECURITY__LOGIN_ATTEMPTS_PER_MINUTE=1000 "$root/target/release/haidang" demo --data "$data/store" --listen "127.0.0.1:$port" --mqtt-listen 127.0.0.1:0 --demo-password "$password" >"$log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then cat "$log"; echo "the demo server exited" >&2; exit 1; fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$log"; echo "the demo server did not become ready" >&2; exit 1; }
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error && HAIDANG_URL="http://127.0.0.1:$port" HAIDANG_DEMO_PASSWORD="$password" CHROMIUM=/usr/bin/chromium npm test)
