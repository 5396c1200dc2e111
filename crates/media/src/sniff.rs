//! What a file is, judged by its bytes alone: names and declared types are chosen by the sender.

/// The kinds of attachment accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    Jpeg,
    Png,
    Webp,
    Mp4,
}

impl MediaType {
    pub fn content_type(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Webp => "image/webp",
            MediaType::Mp4 => "video/mp4",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::Webp => "webp",
            MediaType::Mp4 => "mp4",
        }
    }

    pub fn is_image(self) -> bool {
        self != MediaType::Mp4
    }

    /// Reads a Content-Type header value (parameters and case ignored), including the aliases
    /// clients really send: `image/jpg`, `image/pjpeg` and `video/quicktime` (iPhones record
    /// QuickTime files, whose H.264 content browsers play as MP4).
    pub fn from_content_type(value: &str) -> Option<MediaType> {
        match essence(value).as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Some(MediaType::Jpeg),
            "image/png" | "image/x-png" => Some(MediaType::Png),
            "image/webp" => Some(MediaType::Webp),
            "video/mp4" | "video/quicktime" => Some(MediaType::Mp4),
            _ => None,
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            MediaType::Jpeg => "a JPEG image",
            MediaType::Png => "a PNG image",
            MediaType::Webp => "a WebP image",
            MediaType::Mp4 => "an MP4 video",
        }
    }
}

/// The media type part of a Content-Type value, lowercased, cut short and limited to the
/// characters a media type may hold, because it is echoed back in error messages.
pub(crate) fn essence(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "/+-.!#$&^_".contains(*c))
        .take(80)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Major brands of the ISO media files phones and cameras record as video. Image brands
/// (`heic`, `mif1`, `avif`, …) share the container and are deliberately absent.
const VIDEO_BRANDS: &[&[u8; 4]] = &[
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash", b"3gp4",
    b"3gp5", b"3gp6", b"3g2a", b"qt  ", b"MSNV", b"XAVC",
];

/// The accepted kind of `bytes`, from its leading bytes.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaType::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(MediaType::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(MediaType::Webp)
    } else if ftyp_brand(bytes).is_some_and(|brand| VIDEO_BRANDS.contains(&brand)) {
        Some(MediaType::Mp4)
    } else {
        None
    }
}

fn ftyp_brand(bytes: &[u8]) -> Option<&[u8; 4]> {
    (bytes.get(4..8)? == b"ftyp").then(|| bytes.get(8..12)?.try_into().ok()).flatten()
}

/// Names what a refused file is, when it is something recognisable, so the sender is told
/// more than "not accepted".
pub(crate) fn describe_refused(bytes: &[u8]) -> Option<&'static str> {
    let text_start = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes).trim_ascii_start();
    let head = &text_start[..text_start.len().min(1024)];
    if bytes.is_empty() {
        Some("an empty file")
    } else if bytes.starts_with(b"MZ") {
        Some("a Windows program")
    } else if bytes.starts_with(b"\x7FELF") {
        Some("a Linux program")
    } else if [&[0xCF, 0xFA, 0xED, 0xFE][..], &[0xCE, 0xFA, 0xED, 0xFE], &[0xCA, 0xFE, 0xBA, 0xBE]]
        .iter()
        .any(|m| bytes.starts_with(m))
    {
        Some("a macOS program")
    } else if bytes.starts_with(b"#!") {
        Some("a script")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("a GIF image")
    } else if bytes.starts_with(b"%PDF") {
        Some("a PDF document")
    } else if bytes.starts_with(b"PK\x03\x04") {
        Some("a ZIP archive or office document")
    } else if let Some(brand) = ftyp_brand(bytes) {
        if [b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"].contains(&brand) {
            Some("a HEIC image")
        } else if [b"avif", b"avis"].contains(&brand) {
            Some("an AVIF image")
        } else {
            Some("a video format that is not accepted")
        }
    } else if head.starts_with(b"<") {
        if head.windows(4).any(|w| w.eq_ignore_ascii_case(b"<svg")) {
            Some("an SVG image")
        } else {
            Some("an HTML or XML document")
        }
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_read_leniently_and_echoed_safely() {
        assert_eq!(MediaType::from_content_type(" Image/JPEG; charset=binary"), Some(MediaType::Jpeg));
        assert_eq!(MediaType::from_content_type("video/quicktime"), Some(MediaType::Mp4));
        assert_eq!(MediaType::from_content_type("image/gif"), None);
        assert_eq!(essence("text/html<script>\"x\"</script>"), "text/htmlscriptx/script");
    }

    #[test]
    fn refused_kinds_are_named() {
        assert_eq!(describe_refused(b"\xEF\xBB\xBF  <?xml version='1.0'?><SVG>"), Some("an SVG image"));
        assert_eq!(describe_refused(b"<!doctype html>"), Some("an HTML or XML document"));
        assert_eq!(describe_refused(b"\0\0\0\x18ftypheic\0\0\0\0"), Some("a HEIC image"));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), None);
        assert_eq!(describe_refused(b"GIF89a...."), Some("a GIF image"));
        assert_eq!(describe_refused(b"hello"), None);
    }
}
