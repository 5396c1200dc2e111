//! Multipart uploads (the public form, result photos) and serving stored files.

use crate::error::{ApiError, ApiResult};
use crate::reports::intake::prepare_file;
use crate::state::AppState;
use axum::extract::Multipart;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use haidang_core::validation::Checker;
use haidang_media::{MediaError, Prepared};
use haidang_store::Attachment;

/// The largest upload request: five photos and a video, with room for the form.
pub const MAX_UPLOAD_BYTES: usize = 5 * 10 * 1024 * 1024 + 50 * 1024 * 1024 + 1024 * 1024;

/// A multipart form: its text fields and its files, each file checked and cleaned.
pub struct Form {
    pub fields: Vec<(String, String)>,
    pub files: Vec<Prepared>,
}

impl Form {
    pub fn text(&self, name: &str) -> Option<String> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }
}

/// Reads a multipart form with at most `max_files` parts named `file`. Every file is checked
/// before anything is stored, so a refused file leaves nothing behind; the errors name the
/// part (`file[2]`).
pub async fn read_form(state: &AppState, mut multipart: Multipart, max_files: usize) -> ApiResult<Form> {
    let mut fields = Vec::new();
    let mut raw: Vec<(Vec<u8>, Option<String>)> = Vec::new();
    let mut text_bytes = 0usize;
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::field("body", format!("not a readable multipart form: {}", e.body_text()))
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            if raw.len() >= max_files {
                return Err(ApiError::field(&format!("file[{}]", raw.len()), format!("at most {max_files} files")));
            }
            let declared = field.content_type().map(str::to_owned);
            let bytes = field.bytes().await.map_err(bad)?;
            raw.push((bytes.to_vec(), declared));
        } else {
            let value = field.text().await.map_err(bad)?;
            text_bytes += value.len() + name.len();
            if text_bytes > 256 * 1024 || fields.len() >= 100 {
                return Err(ApiError::field(&name, "the form's text fields are too large"));
            }
            fields.push((name, value));
        }
    }
    let mut c = Checker::new();
    let mut files = Vec::new();
    for (i, (bytes, declared)) in raw.into_iter().enumerate() {
        match prepare_file(state, bytes, declared).await {
            Ok(p) => files.push(p),
            // Over the size limit for its kind: 413, like any body that is too large.
            Err(MediaError::TooLarge { .. }) => return Err(ApiError::PayloadTooLarge),
            Err(e) => c.push(&format!("file[{i}]"), e.reason()),
        }
    }
    if files.iter().filter(|f| !f.media_type.is_image()).count() > 1 {
        c.push("file", "at most one video");
    }
    c.finish()?;
    Ok(Form { fields, files })
}

/// Which variant of a stored file to send.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MediaQuery {
    /// `thumb` for the thumbnail.
    pub size: Option<String>,
}

/// Sends a stored file (or its thumbnail) with its type, never sniffed by the browser.
pub async fn serve_file(
    state: &AppState,
    a: &Attachment,
    size: Option<&str>,
    cache: &'static str,
) -> ApiResult<Response> {
    let thumb = match size {
        None => false,
        Some("thumb") => true,
        Some(_) => return Err(ApiError::field("size", "must be thumb")),
    };
    if thumb && !a.has_thumb {
        return Err(ApiError::NotFound);
    }
    let bytes = crate::reports::intake::read_file(state, a.sha256.clone(), thumb).await?;
    let content_type = if thumb { "image/jpeg".to_owned() } else { a.content_type.clone() };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache.to_owned()),
            (header::CONTENT_DISPOSITION, "inline".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
