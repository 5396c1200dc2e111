//! Attachments: content-type sniffing, size limits, metadata stripping, thumbnails, storage in the data directory.
