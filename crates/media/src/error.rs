use std::path::PathBuf;

/// Why an attachment was refused or could not be stored. `Display` is for logs; [`reason`]
/// is what the sender is told.
///
/// [`reason`]: MediaError::reason
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("unsupported content ({})", found.unwrap_or("unrecognised"))]
    Unsupported { found: Option<&'static str> },
    #[error("declared {declared} but the content is {}", found.unwrap_or("unrecognised"))]
    Mismatch { declared: String, found: Option<&'static str> },
    #[error("corrupt: {0}")]
    Corrupt(String),
    #[error("{width}×{height} pixels is over the limits")]
    TooManyPixels { width: u32, height: u32 },
    #[error("not a media id: {0:?}")]
    BadId(String),
    #[error("no such media file")]
    NotFound,
    #[error("{path}: {source}", path = .0.display(), source = .1)]
    Io(PathBuf, std::io::Error),
}

const ACCEPTED: &str = "send a JPEG, PNG or WebP photo or an MP4 video";

impl MediaError {
    /// A short English sentence for the API problem's `errors[].reason`.
    pub fn reason(&self) -> String {
        match self {
            MediaError::TooLarge { limit } => format!("the file is larger than {}, the most accepted", size(*limit)),
            MediaError::Unsupported { found: Some(what) } => format!("the file is {what}; {ACCEPTED}"),
            MediaError::Unsupported { found: None } => {
                format!("the file is not a photo or video we accept; {ACCEPTED}")
            }
            MediaError::Mismatch { declared, found: Some(what) } => {
                format!("the file says {declared} but its content is {what}")
            }
            MediaError::Mismatch { declared, found: None } => {
                let expected = match declared.split('/').next() {
                    Some("image") => "an image",
                    Some("video") => "a video",
                    _ => "a photo or video",
                };
                format!("the file says {declared} but its content is not {expected}")
            }
            MediaError::Corrupt(_) => "the file is damaged or incomplete".into(),
            MediaError::TooManyPixels { width, height } => {
                format!("the image is {width}×{height} pixels, too large to process")
            }
            MediaError::BadId(_) => "the media id is not valid".into(),
            MediaError::NotFound => "the file does not exist".into(),
            MediaError::Io(..) => "the file could not be stored or read".into(),
        }
    }
}

fn size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) { format!("{} MiB", bytes / MIB) } else { format!("{bytes} bytes") }
}

#[cfg(test)]
mod tests {
    use super::MediaError;

    #[test]
    fn reasons_read_as_sentences() {
        assert_eq!(
            MediaError::TooLarge { limit: 10 * 1024 * 1024 }.reason(),
            "the file is larger than 10 MiB, the most accepted"
        );
        assert_eq!(
            MediaError::Mismatch { declared: "image/png".into(), found: None }.reason(),
            "the file says image/png but its content is not an image"
        );
        assert_eq!(
            MediaError::Unsupported { found: Some("a GIF image") }.reason(),
            "the file is a GIF image; send a JPEG, PNG or WebP photo or an MP4 video"
        );
    }
}
