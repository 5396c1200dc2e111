//! What `prepare` accepts, what it refuses and what leaves with the files it accepts, on images
//! built here (no fixtures: every byte that matters is visible in the test).

use haidang_media::{MediaError, MediaPolicy, MediaType, prepare, sniff};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};
use proptest::prelude::*;

const RED: Rgb<u8> = Rgb([220, 20, 20]);
const BLUE: Rgb<u8> = Rgb([20, 20, 220]);

/// 40×20: red on the left half, blue on the right, so a rotation shows where each half went.
fn halves() -> RgbImage {
    RgbImage::from_fn(40, 20, |x, _| if x < 20 { RED } else { BLUE })
}

fn jpeg(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 95).encode_image(image).unwrap();
    out
}

fn png(image: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    image.write_with_encoder(PngEncoder::new(&mut out)).unwrap();
    out
}

fn webp(image: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    image.write_with_encoder(WebPEncoder::new_lossless(&mut out)).unwrap();
    out
}

/// A little-endian TIFF block as EXIF holds it: orientation 6 (turn 90° clockwise to view) and
/// the position 13°46'12"N 109°13'48"E (Quy Nhơn).
fn exif_tiff() -> Vec<u8> {
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value);
    }
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const ASCII: u16 = 2;
    const RATIONAL: u16 = 5;
    // Offsets: header 8, IFD0 (2 entries) 30 bytes, GPS IFD (4 entries) 54 bytes, then the
    // two triples of rationals.
    let (gps_ifd, lat_at, lon_at) = (38u32, 92u32, 116u32);
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    t.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut t, 0x0112, SHORT, 1, [6, 0, 0, 0]);
    entry(&mut t, 0x8825, LONG, 1, gps_ifd.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len() as u32, gps_ifd);
    t.extend_from_slice(&4u16.to_le_bytes());
    entry(&mut t, 0x0001, ASCII, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, RATIONAL, 3, lat_at.to_le_bytes());
    entry(&mut t, 0x0003, ASCII, 2, *b"E\0\0\0");
    entry(&mut t, 0x0004, RATIONAL, 3, lon_at.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len() as u32, lat_at);
    for n in [13u32, 46, 12, 109, 13, 48] {
        t.extend_from_slice(&n.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
    }
    t
}

/// Inserts JPEG segments (marker, payload) right after the start-of-image marker.
fn with_segments(jpeg: &[u8], segments: &[(u8, &[u8])]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    for (marker, payload) in segments {
        out.extend_from_slice(&[0xFF, *marker]);
        out.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
        out.extend_from_slice(payload);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let typed = [&kind[..], data].concat();
    out.extend_from_slice(&typed);
    out.extend_from_slice(&crc32(&typed).to_be_bytes());
    out
}

/// Inserts PNG chunks right after IHDR (8-byte signature + 25-byte IHDR chunk).
fn with_chunks(png: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    [&png[..33], &chunks.concat(), &png[33..]].concat()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn near(pixel: Rgb<u8>, expected: Rgb<u8>) -> bool {
    pixel.0.iter().zip(expected.0).all(|(a, b)| a.abs_diff(b) < 40)
}

#[test]
fn jpeg_exif_gps_is_read_then_stripped_and_orientation_applied() {
    let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>secret</x:xmpmeta>";
    let exif = [b"Exif\0\0".as_slice(), &exif_tiff()].concat();
    let input = with_segments(&jpeg(&halves()), &[(0xE1, &exif), (0xE1, xmp), (0xFE, b"taken by Nguyen Van A")]);
    let policy = MediaPolicy::default();
    let out = prepare(&input, Some("image/jpeg"), &policy).unwrap();

    let (lat, lon) = out.gps.expect("the EXIF position is returned");
    assert!((lat - 13.77).abs() < 1e-9 && (lon - 109.23).abs() < 1e-9, "{lat} {lon}");
    assert_eq!(out.media_type, MediaType::Jpeg);
    for marker in [&b"Exif"[..], b"ns.adobe.com", b"xmpmeta", b"Nguyen", &exif_tiff()[..16]] {
        assert!(!contains(&out.bytes, marker), "{} survived", String::from_utf8_lossy(marker));
    }
    // Orientation 6: the left (red) half of the stored pixels is the top when viewed.
    assert_eq!((out.width, out.height), (Some(20), Some(40)));
    let upright = image::load_from_memory(&out.bytes).unwrap().to_rgb8();
    assert_eq!(upright.dimensions(), (20, 40));
    assert!(near(*upright.get_pixel(10, 5), RED) && near(*upright.get_pixel(10, 34), BLUE));
    let reread = prepare(&out.bytes, None, &policy).unwrap();
    assert_eq!(reread.gps, None, "nothing left to find");
    assert_eq!(reread.width, Some(20), "no orientation left to apply twice");
}

#[test]
fn png_stays_png_without_its_metadata_chunks() {
    let image = DynamicImage::ImageRgba8(RgbaImage::from_fn(30, 30, |x, y| Rgba([x as u8 * 8, y as u8 * 8, 0, 200])));
    let input = with_chunks(
        &png(&image),
        &[png_chunk(b"eXIf", &exif_tiff()), png_chunk(b"tEXt", b"Comment\0home of Nguyen Van A")],
    );
    let out = prepare(&input, Some("image/png"), &MediaPolicy::default()).unwrap();
    assert_eq!(out.media_type, MediaType::Png);
    assert!(out.gps.is_some(), "PNG EXIF is read too");
    for marker in [&b"eXIf"[..], b"tEXt", b"Nguyen"] {
        assert!(!contains(&out.bytes, marker));
    }
    // Rotated by the EXIF orientation, lossless, alpha kept.
    let back = image::load_from_memory(&out.bytes).unwrap().to_rgba8();
    assert_eq!(*back.get_pixel(29, 0), Rgba([0, 0, 0, 200]));
    assert_eq!(out.sha256.len(), 64);
}

#[test]
fn webp_becomes_jpeg_or_png_with_alpha() {
    let opaque = prepare(&webp(&DynamicImage::ImageRgb8(halves())), Some("image/webp"), &MediaPolicy::default());
    assert_eq!(opaque.unwrap().media_type, MediaType::Jpeg);
    let clear = DynamicImage::ImageRgba8(RgbaImage::from_pixel(8, 8, Rgba([0, 0, 0, 0])));
    let with_alpha = prepare(&webp(&clear), None, &MediaPolicy::default()).unwrap();
    assert_eq!(with_alpha.media_type, MediaType::Png);
    assert_eq!(sniff(&with_alpha.bytes), Some(MediaType::Png));
    // Its thumbnail, a JPEG, shows transparency as white.
    let thumb = image::load_from_memory(with_alpha.thumbnail.as_ref().unwrap()).unwrap().to_rgb8();
    assert!(near(*thumb.get_pixel(4, 4), Rgb([255, 255, 255])));
}

#[test]
fn thumbnails_fit_the_policy_size() {
    let big = RgbImage::from_fn(1000, 500, |x, _| if x < 500 { RED } else { BLUE });
    let out = prepare(&jpeg(&big), None, &MediaPolicy::default()).unwrap();
    let thumb = out.thumbnail.unwrap();
    assert_eq!(sniff(&thumb), Some(MediaType::Jpeg));
    assert_eq!(image::load_from_memory(&thumb).unwrap().to_rgb8().dimensions(), (320, 160));
}

#[test]
fn executables_and_other_kinds_are_refused() {
    let exe = [b"MZ\x90\0\x03\0\0\0".as_slice(), &[0u8; 120]].concat();
    let err = prepare(&exe, Some("image/png"), &MediaPolicy::default()).unwrap_err();
    assert!(matches!(err, MediaError::Mismatch { .. }), "{err:?}");
    assert_eq!(err.reason(), "the file says image/png but its content is a Windows program");
    let err = prepare(&exe, None, &MediaPolicy::default()).unwrap_err();
    assert!(matches!(err, MediaError::Unsupported { found: Some("a Windows program") }), "{err:?}");

    for (bytes, found) in [
        (&b"\x7FELF\x02\x01\x01"[..], Some("a Linux program")),
        (b"#!/bin/sh\nrm -rf /", Some("a script")),
        (b"<html><script>alert(1)</script>", Some("an HTML or XML document")),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", Some("an SVG image")),
        (b"GIF89a\x01\0\x01\0", Some("a GIF image")),
        (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", Some("a HEIC image")),
        (b"just some text", None),
    ] {
        assert!(
            matches!(prepare(bytes, None, &MediaPolicy::default()), Err(MediaError::Unsupported { found: f }) if f == found)
        );
    }
    // A real PNG declared as a JPEG is refused too: the sender is confused or lying.
    let real_png = png(&DynamicImage::ImageRgb8(halves()));
    let err = prepare(&real_png, Some("image/jpeg"), &MediaPolicy::default()).unwrap_err();
    assert_eq!(err.reason(), "the file says image/jpeg but its content is a PNG image");
    let err = prepare(&real_png, Some("text/html"), &MediaPolicy::default()).unwrap_err();
    assert!(matches!(err, MediaError::Mismatch { .. }));
    // Clients that do not know say octet-stream; the content decides.
    assert!(prepare(&real_png, Some("application/octet-stream"), &MediaPolicy::default()).is_ok());
}

#[test]
fn truncated_png_is_corrupt() {
    let noise = RgbImage::from_fn(64, 64, |x, y| Rgb([(x * 7 + y * 13) as u8, (x * y) as u8, (x ^ y) as u8]));
    let whole = png(&DynamicImage::ImageRgb8(noise));
    let err = prepare(&whole[..whole.len() / 2], None, &MediaPolicy::default()).unwrap_err();
    assert!(matches!(err, MediaError::Corrupt(_)), "{err:?}");
    assert_eq!(err.reason(), "the file is damaged or incomplete");
}

#[test]
fn decompression_bombs_are_refused_from_the_header() {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let bomb = [
        b"\x89PNG\r\n\x1a\n".to_vec(),
        png_chunk(b"IHDR", &ihdr),
        png_chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]),
        png_chunk(b"IEND", &[]),
    ]
    .concat();
    let started = std::time::Instant::now();
    let err = prepare(&bomb, None, &MediaPolicy::default()).unwrap_err();
    assert!(matches!(err, MediaError::TooManyPixels { width: 100_000, height: 100_000 }), "{err:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "refused without decoding");

    // Each side is bounded too, not only the area.
    let policy = MediaPolicy { max_dimension: 39, ..MediaPolicy::default() };
    assert!(matches!(
        prepare(&jpeg(&halves()), None, &policy),
        Err(MediaError::TooManyPixels { width: 40, height: 20 })
    ));
}

#[test]
fn size_limits_depend_on_the_kind() {
    let photo = jpeg(&halves());
    let policy = MediaPolicy { max_image_bytes: photo.len() as u64 - 1, ..MediaPolicy::default() };
    let err = prepare(&photo, None, &policy).unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { limit } if limit == photo.len() as u64 - 1));
    let video = minimal_mp4();
    let policy = MediaPolicy { max_image_bytes: 1, max_video_bytes: video.len() as u64, ..MediaPolicy::default() };
    assert!(prepare(&video, None, &policy).is_ok());
    let policy = MediaPolicy { max_video_bytes: video.len() as u64 - 1, ..MediaPolicy::default() };
    assert!(matches!(prepare(&video, None, &policy), Err(MediaError::TooLarge { .. })));
}

fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    [&(body.len() as u32 + 8).to_be_bytes()[..], kind, body].concat()
}

fn minimal_mp4() -> Vec<u8> {
    let ftyp = mp4_box(b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41");
    let mvhd = mp4_box(b"mvhd", &[0; 100]);
    [ftyp, mp4_box(b"moov", &mvhd), mp4_box(b"free", &[]), mp4_box(b"mdat", &[0x42; 64])].concat()
}

#[test]
fn mp4_is_kept_as_sent_when_its_boxes_hold_together() {
    let video = minimal_mp4();
    let out = prepare(&video, Some("video/mp4"), &MediaPolicy::default()).unwrap();
    assert_eq!(out.media_type, MediaType::Mp4);
    assert_eq!(out.bytes, video);
    assert_eq!((out.thumbnail, out.width, out.gps), (None, None, None));
    assert_eq!(out.sha256, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&video)));
    assert!(prepare(&video, Some("video/quicktime"), &MediaPolicy::default()).is_ok(), "iPhone uploads");
    assert!(matches!(prepare(&video, Some("image/jpeg"), &MediaPolicy::default()), Err(MediaError::Mismatch { .. })));

    // "ftyp" with a known brand, then garbage: the box sizes do not tile the file.
    let mut blob = b"\0\0\0\x14ftypisom\0\0\0\0isom".to_vec();
    blob.extend((0..200u32).map(|i| (i * 97 % 251) as u8));
    assert_eq!(sniff(&blob), Some(MediaType::Mp4));
    assert!(matches!(prepare(&blob, None, &MediaPolicy::default()), Err(MediaError::Corrupt(_))));
    // Well formed, but no movie in it.
    let empty = [mp4_box(b"ftyp", b"isom\0\0\0\0"), mp4_box(b"free", &[0; 8])].concat();
    assert!(matches!(prepare(&empty, None, &MediaPolicy::default()), Err(MediaError::Corrupt(_))));
}

fn small_samples() -> Vec<Vec<u8>> {
    let image = DynamicImage::ImageRgb8(RgbImage::from_fn(9, 7, |x, y| Rgb([x as u8 * 20, y as u8 * 30, 99])));
    let exif = [b"Exif\0\0".as_slice(), &exif_tiff()].concat();
    vec![with_segments(&jpeg(&image.to_rgb8()), &[(0xE1, &exif)]), png(&image), webp(&image), minimal_mp4()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), declared in "[a-z/]{0,12}") {
        let _ = prepare(&bytes, Some(&declared), &MediaPolicy::default());
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_signature_never_panic(
        which in 0usize..4,
        tail in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let heads: [&[u8]; 4] = [b"\xFF\xD8\xFF\xE0", b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBPVP8 ", b"\0\0\0\x10ftypisom\0\0\0\0"];
        let _ = prepare(&[heads[which], &tail].concat(), None, &MediaPolicy::default());
    }

    #[test]
    fn damaged_real_files_never_panic(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = small_samples().swap_remove(which);
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        bytes.truncate(cut.index(bytes.len()) + 1);
        if let Ok(out) = prepare(&bytes, None, &MediaPolicy::default()) {
            prop_assert_eq!(sniff(&out.bytes), Some(out.media_type));
        }
    }
}
