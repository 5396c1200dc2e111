//! Turning untrusted upload bytes into a file safe to keep and show.

use crate::sniff::{describe_refused, essence};
use crate::{MediaError, MediaType, mp4, sniff};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, RgbImage};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::io::Cursor;

const MIB: u64 = 1024 * 1024;
const JPEG_QUALITY: u8 = 85;

/// Limits on what is accepted; read from the server configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaPolicy {
    pub max_image_bytes: u64,
    pub max_video_bytes: u64,
    /// Width × height: bounds the memory a decoded image takes, whatever its file size.
    pub max_pixels: u64,
    pub max_dimension: u32,
    /// Longest side of thumbnails.
    pub thumb_size: u32,
}

impl Default for MediaPolicy {
    fn default() -> Self {
        Self {
            max_image_bytes: 10 * MIB,
            max_video_bytes: 50 * MIB,
            max_pixels: 40_000_000,
            max_dimension: 12_000,
            thumb_size: 320,
        }
    }
}

/// An attachment ready to store: images re-encoded without metadata, videos as sent.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The type of `bytes`, which for a WebP upload is JPEG or PNG (see [`prepare`]).
    pub media_type: MediaType,
    pub bytes: Vec<u8>,
    /// Pixels after the EXIF orientation was applied; `None` for videos, whose size is not read.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// A JPEG whose longest side is at most the policy's `thumb_size`; images only.
    pub thumbnail: Option<Vec<u8>>,
    /// Latitude and longitude from the photo's EXIF, found before it was stripped.
    pub gps: Option<(f64, f64)>,
    /// Lowercase hex SHA-256 of `bytes`: the file's name in the store.
    pub sha256: String,
}

/// Checks and cleans an upload. `declared` is the Content-Type the sender gave the part, if any;
/// it must name an accepted type that agrees with the content (`application/octet-stream`
/// counts as no declaration, as clients send it when they do not know).
///
/// Images are decoded (after their header dimensions are checked against the policy), turned
/// upright by their EXIF orientation and re-encoded, which drops every piece of metadata (EXIF
/// with GPS, XMP, ICC profiles, comments): JPEG stays JPEG (quality 85), PNG stays PNG, and WebP
/// becomes JPEG, or PNG when it has an alpha channel, because the image crate encodes only
/// lossless WebP, which would make photos several times larger. MP4 videos are kept byte for
/// byte after a check of their box structure.
///
/// This is CPU- and memory-heavy (a 40-megapixel photo decodes to about 160 MB): call it from
/// a blocking task and bound how many run at once.
pub fn prepare(bytes: &[u8], declared: Option<&str>, policy: &MediaPolicy) -> Result<Prepared, MediaError> {
    let found = sniff(bytes);
    check_declared(bytes, found, declared)?;
    let Some(kind) = found else {
        return Err(MediaError::Unsupported { found: describe_refused(bytes) });
    };
    let limit = if kind.is_image() { policy.max_image_bytes } else { policy.max_video_bytes };
    if bytes.len() as u64 > limit {
        return Err(MediaError::TooLarge { limit });
    }
    if kind == MediaType::Mp4 {
        mp4::check(bytes).map_err(MediaError::Corrupt)?;
        return Ok(Prepared {
            media_type: kind,
            bytes: bytes.to_vec(),
            width: None,
            height: None,
            thumbnail: None,
            gps: None,
            sha256: sha256_hex(bytes),
        });
    }
    prepare_image(bytes, kind, policy)
}

fn check_declared(bytes: &[u8], found: Option<MediaType>, declared: Option<&str>) -> Result<(), MediaError> {
    let Some(declared) = declared.map(essence).filter(|d| !d.is_empty() && d != "application/octet-stream") else {
        return Ok(());
    };
    match (MediaType::from_content_type(&declared), found) {
        (Some(said), Some(is)) if said == is => Ok(()),
        // A refused kind declared as itself (a GIF sent as image/gif) is simply unsupported.
        (None, None) => Ok(()),
        (_, found) => Err(MediaError::Mismatch {
            declared,
            found: found.map(MediaType::describe).or_else(|| describe_refused(bytes)),
        }),
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn prepare_image(bytes: &[u8], kind: MediaType, policy: &MediaPolicy) -> Result<Prepared, MediaError> {
    let format = match kind {
        MediaType::Jpeg => ImageFormat::Jpeg,
        MediaType::Png => ImageFormat::Png,
        _ => ImageFormat::WebP,
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    // Up to 8 bytes a pixel (16-bit RGBA PNG); dimensions are checked below, by us, so the
    // error can name them.
    limits.max_alloc = Some(policy.max_pixels.saturating_mul(8));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    if width > policy.max_dimension
        || height > policy.max_dimension
        || u64::from(width) * u64::from(height) > policy.max_pixels
    {
        return Err(MediaError::TooManyPixels { width, height });
    }
    // Broken metadata is no reason to refuse a photo: it is dropped anyway.
    let exif = decoder.exif_metadata().ok().flatten();
    let orientation = exif.as_deref().and_then(Orientation::from_exif_chunk).unwrap_or(Orientation::NoTransforms);
    let gps = exif.and_then(gps_position);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        ImageError::Limits(_) => MediaError::TooManyPixels { width, height },
        other => decode_error(other),
    })?;
    image.apply_orientation(orientation);

    let (media_type, out) = match kind {
        MediaType::Png => (MediaType::Png, encode_png(&image)?),
        MediaType::Webp if image.color().has_alpha() => (MediaType::Png, encode_png(&image)?),
        _ => (MediaType::Jpeg, encode_jpeg(&image)?),
    };
    let thumb_size = policy.thumb_size.max(1);
    let thumbnail = if image.width().max(image.height()) > thumb_size {
        encode_jpeg(&image.thumbnail(thumb_size, thumb_size))?
    } else {
        encode_jpeg(&image)?
    };
    Ok(Prepared {
        media_type,
        sha256: sha256_hex(&out),
        bytes: out,
        width: Some(image.width()),
        height: Some(image.height()),
        thumbnail: Some(thumbnail),
        gps,
    })
}

fn decode_error(e: ImageError) -> MediaError {
    MediaError::Corrupt(e.to_string())
}

fn encode_error(e: ImageError) -> MediaError {
    MediaError::Corrupt(format!("re-encoding failed: {e}"))
}

fn encode_png(image: &DynamicImage) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::new();
    image.write_with_encoder(PngEncoder::new(&mut out)).map_err(encode_error)?;
    Ok(out)
}

fn encode_jpeg(image: &DynamicImage) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).encode_image(&flatten(image)).map_err(encode_error)?;
    Ok(out)
}

/// JPEG has no transparency; transparent areas become white, as they look on the page, rather
/// than whatever colour the hidden pixels happen to hold.
fn flatten(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white = |c: u8| ((u16::from(c) * u16::from(a) + 255 * u16::from(255 - a)) / 255) as u8;
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

/// The position in an EXIF block (TIFF bytes), when it holds a plausible one.
fn gps_position(raw: Vec<u8>) -> Option<(f64, f64)> {
    let exif = exif::Reader::new().read_raw(raw).ok()?;
    let lat = coordinate(&exif, exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef, (b'N', b'S'))?;
    let lon = coordinate(&exif, exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef, (b'E', b'W'))?;
    (lat.abs() <= 90.0 && lon.abs() <= 180.0).then_some((lat, lon))
}

/// Degrees, minutes and seconds with their hemisphere; a missing hemisphere is not guessed.
fn coordinate(exif: &exif::Exif, tag: exif::Tag, ref_tag: exif::Tag, (positive, negative): (u8, u8)) -> Option<f64> {
    let exif::Value::Rational(parts) = &exif.get_field(tag, exif::In::PRIMARY)?.value else {
        return None;
    };
    let [d, m, s] = parts.as_slice() else {
        return None;
    };
    let value = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
    let exif::Value::Ascii(hemisphere) = &exif.get_field(ref_tag, exif::In::PRIMARY)?.value else {
        return None;
    };
    let sign = match hemisphere.first()?.first()? {
        c if *c == positive => 1.0,
        c if *c == negative => -1.0,
        _ => return None,
    };
    value.is_finite().then_some(sign * value)
}
