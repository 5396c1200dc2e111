//! Uploaded files as records: CSV (UTF-8, comma or semicolon separated) and XLSX, the first
//! row holding the column names. Every cell becomes text or a number under its column's name.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde_json::{Map, Value, json};

/// What kind of file, from its content type (or its first bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv,
    Xlsx,
}

impl FileKind {
    pub fn detect(content_type: Option<&str>, bytes: &[u8]) -> Option<FileKind> {
        let ct = content_type.unwrap_or_default().split(';').next().unwrap_or_default().trim();
        match ct {
            "text/csv" | "application/csv" => Some(FileKind::Csv),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Some(FileKind::Xlsx),
            _ if bytes.starts_with(b"PK\x03\x04") => Some(FileKind::Xlsx),
            "text/plain" | "application/octet-stream" | "" => Some(FileKind::Csv),
            _ => None,
        }
    }
}

/// The rows of a file as records (column name → cell), at most `max` of them.
pub fn records(kind: FileKind, bytes: &[u8], sheet: Option<&str>, max: usize) -> Result<Vec<Value>, String> {
    let rows = match kind {
        FileKind::Csv => csv_rows(bytes)?,
        FileKind::Xlsx => xlsx_rows(bytes, sheet)?,
    };
    let mut rows = rows.into_iter();
    let header: Vec<String> = rows.next().ok_or("the file is empty")?.into_iter().map(|c| text(&c)).collect();
    if header.iter().all(String::is_empty) {
        return Err("the first row must hold the column names".into());
    }
    let mut out = Vec::new();
    for row in rows {
        if row.iter().all(|c| text(c).is_empty()) {
            continue;
        }
        if out.len() == max {
            return Err(format!("the file has more than {max} rows; split it"));
        }
        let record: Map<String, Value> =
            header.iter().zip(row).filter(|(h, _)| !h.is_empty()).map(|(h, c)| (h.clone(), c)).collect();
        out.push(Value::Object(record));
    }
    Ok(out)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn csv_rows(bytes: &[u8]) -> Result<Vec<Vec<Value>>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text =
        std::str::from_utf8(bytes).map_err(|e| format!("the file is not UTF-8 text (save it as CSV UTF-8): {e}"))?;
    // Excel in Vietnamese locales writes semicolons.
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.matches(';').count() > first.matches(',').count() { b';' } else { b',' };
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(text.as_bytes());
    reader
        .records()
        .enumerate()
        .map(|(i, r)| {
            r.map(|rec| rec.iter().map(|c| Value::String(c.to_owned())).collect())
                .map_err(|e| format!("row {}: {e}", i + 1))
        })
        .collect()
}

fn xlsx_rows(bytes: &[u8], sheet: Option<&str>) -> Result<Vec<Vec<Value>>, String> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| format!("not a readable XLSX file: {e}"))?;
    let name = match sheet {
        Some(s) => s.to_owned(),
        None => book.sheet_names().first().cloned().ok_or("the workbook has no sheet")?,
    };
    let range = book.worksheet_range(&name).map_err(|e| format!("sheet {name:?}: {e}"))?;
    Ok(range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::Empty => Value::Null,
                    Data::String(s) => Value::String(s.clone()),
                    Data::Float(f) => json!(f),
                    Data::Int(i) => json!(i),
                    Data::Bool(b) => json!(b),
                    Data::DateTime(d) => d
                        .as_datetime()
                        .map_or(Value::Null, |t| Value::String(format!("{}+07:00", t.format("%Y-%m-%dT%H:%M:%S")))),
                    Data::DateTimeIso(s) | Data::DurationIso(s) => Value::String(s.clone()),
                    Data::Error(e) => Value::String(format!("#{e:?}")),
                })
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_semicolons_and_blank_lines() {
        let file = "\u{feff}Mã trạm;Nhiệt độ\nPK01;24,5\n\nPK02;25\n";
        let r = records(FileKind::Csv, file.as_bytes(), None, 10).unwrap();
        assert_eq!(
            r,
            vec![json!({"Mã trạm": "PK01", "Nhiệt độ": "24,5"}), json!({"Mã trạm": "PK02", "Nhiệt độ": "25"})]
        );
        assert!(records(FileKind::Csv, b"a,b\n1,2\n3,4\n", None, 1).unwrap_err().contains("more than 1"));
        assert!(records(FileKind::Csv, b"", None, 10).is_err());
        assert!(records(FileKind::Csv, b"\xff\xfe", None, 10).unwrap_err().contains("UTF-8"));
        assert!(records(FileKind::Xlsx, b"PK\x03\x04garbage", None, 10).unwrap_err().contains("XLSX"));
    }

    #[test]
    fn kinds_from_content_type_or_magic() {
        assert_eq!(FileKind::detect(Some("text/csv; charset=utf-8"), b"a"), Some(FileKind::Csv));
        assert_eq!(FileKind::detect(None, b"PK\x03\x04..."), Some(FileKind::Xlsx));
        assert_eq!(FileKind::detect(Some("image/png"), b"\x89PNG"), None);
    }
}
