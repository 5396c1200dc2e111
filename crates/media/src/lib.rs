//! Attachments: content-type sniffing, size limits, metadata stripping, thumbnails, storage in the data directory.
//!
//! Citizens' photos and videos are untrusted input. [`prepare`] decides what a file is from its
//! bytes, refuses anything else, decodes images under limits and re-encodes them so that no
//! metadata (notably the GPS position in EXIF) leaves with them; [`MediaStore`] keeps the result
//! under its SHA-256 in the data directory.

mod error;
mod mp4;
mod prepare;
mod sniff;
mod store;

pub use error::MediaError;
pub use prepare::{MediaPolicy, Prepared, prepare};
pub use sniff::{MediaType, sniff};
pub use store::{MediaStore, StoredMedia, Variant};
