//! Lists as files: CSV (with a BOM, so spreadsheet programs read Vietnamese correctly) or XLSX
//! (bold header, filter and frozen header row). Every exportable list goes through here.

use crate::error::{ApiError, ApiResult};
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Reads the `format` parameter of an export.
pub fn format_of(format: Option<&str>) -> ApiResult<bool> {
    match format.unwrap_or("csv") {
        "csv" => Ok(false),
        "xlsx" => Ok(true),
        _ => Err(ApiError::field("format", "must be csv or xlsx")),
    }
}

/// A table as a downloadable file named `<name>-<stamp>.csv|xlsx`.
pub async fn table(
    name: &str,
    sheet: &'static str,
    stamp: String,
    xlsx: bool,
    columns: &'static [&'static str],
    rows: Vec<Vec<String>>,
) -> ApiResult<Response> {
    let (content_type, ext, body) = if xlsx {
        let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
            let mut book = rust_xlsxwriter::Workbook::new();
            let ws = book.add_worksheet();
            ws.set_name(sheet)?;
            let bold = rust_xlsxwriter::Format::new().set_bold();
            for (c, name) in columns.iter().enumerate() {
                ws.write_string_with_format(0, c as u16, *name, &bold)?;
            }
            for (r, row) in rows.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    ws.write_string(r as u32 + 1, c as u16, v)?;
                }
            }
            ws.autofilter(0, 0, rows.len() as u32, columns.len().max(1) as u16 - 1)?;
            ws.set_freeze_panes(1, 0)?;
            book.save_to_buffer()
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", bytes)
    } else {
        let mut w = csv::Writer::from_writer(Vec::new());
        let io = |e: csv::Error| ApiError::Internal(e.to_string());
        w.write_record(columns).map_err(io)?;
        for row in &rows {
            w.write_record(row).map_err(io)?;
        }
        let mut body = b"\xEF\xBB\xBF".to_vec();
        body.extend(w.into_inner().map_err(|e| ApiError::Internal(e.to_string()))?);
        ("text/csv; charset=utf-8", "csv", body)
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}-{stamp}.{ext}\"")),
        ],
        body,
    )
        .into_response())
}
