//! Serves the embedded web UI: files by path, `index.html` for client-side routes.

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};

const MISSING_UI: &str = r#"<!doctype html><html lang="vi"><meta charset="utf-8"><title>Hải Đăng</title>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto;line-height:1.5">
<h1>Hải Đăng</h1>
<p>Máy chủ đang chạy, nhưng giao diện web chưa được đóng gói vào bản dựng này.</p>
<p>The server is running, but this build has no web UI inside: npm was not available when it was
built. Install Node.js and npm, then rebuild (<code>cargo build --release</code>); the build runs
<code>npm ci</code> and <code>npm run build</code> in <code>web/</code> by itself.</p>
<p>API: <a href="/api/docs">/api/docs</a></p></body></html>"#;

pub async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if let Some(bytes) = haidang_web_assets::get(path).filter(|_| !path.is_empty()) {
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        let mut res = (StatusCode::OK, bytes).into_response();
        if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
            res.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        // Vite names assets by content hash, so they never change under the same name.
        let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        return res;
    }
    if path.starts_with("assets/") || path.contains('.') && !path.ends_with(".html") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut res = match haidang_web_assets::get("index.html") {
        Some(index) => Html(index).into_response(),
        None => Html(MISSING_UI).into_response(),
    };
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}
