//! A structural check of ISO media files. Videos are kept as sent (re-encoding needs a codec
//! stack the server does not carry), so the check only makes sure the file is what it claims:
//! a sequence of top-level boxes that tile the file exactly, `ftyp` first, with movie data.

/// Walks the top-level boxes; the error says what is wrong, for logs.
pub(crate) fn check(bytes: &[u8]) -> Result<(), String> {
    let mut pos = 0usize;
    let mut has_movie = false;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let Some(header) = rest.get(..8) else {
            return Err(format!("a box header at byte {pos} is cut off"));
        };
        let kind = &header[4..8];
        if !kind.iter().all(|b| b.is_ascii_alphanumeric() || *b == b' ') {
            return Err(format!("the box at byte {pos} has no valid type"));
        }
        let (size, header_len) = match u32::from_be_bytes([header[0], header[1], header[2], header[3]]) {
            // Size 0: the box runs to the end of the file.
            0 => (rest.len() as u64, 8),
            // Size 1: a 64-bit size follows the type.
            1 => {
                let Some(large) = rest.get(8..16) else {
                    return Err(format!("the 64-bit size of the box at byte {pos} is cut off"));
                };
                (u64::from_be_bytes(large.try_into().expect("8 bytes")), 16)
            }
            n => (u64::from(n), 8),
        };
        if size < header_len || size > rest.len() as u64 {
            return Err(format!(
                "the {:?} box at byte {pos} declares {size} bytes but {} remain",
                String::from_utf8_lossy(kind),
                rest.len()
            ));
        }
        if pos == 0 && (kind != b"ftyp" || size < 16) {
            return Err("the file does not start with a complete ftyp box".into());
        }
        has_movie |= kind == b"moov" || kind == b"mdat";
        // `size` fits in `rest`, so the sum stays within the slice's length.
        pos += size as usize;
    }
    if has_movie { Ok(()) } else { Err("the file holds no movie (no moov or mdat box)".into()) }
}

#[cfg(test)]
mod tests {
    use super::check;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn box_structure() {
        let ftyp = boxed(b"ftyp", b"isom\0\0\x02\0isomavc1");
        let good = [ftyp.clone(), boxed(b"moov", &[0; 20]), boxed(b"mdat", &[1; 40])].concat();
        assert_eq!(check(&good), Ok(()));
        // A last box of size 0 runs to the end.
        let open_ended = [ftyp.clone(), vec![0, 0, 0, 0], b"mdat".to_vec(), vec![7; 30]].concat();
        assert_eq!(check(&open_ended), Ok(()));
        let large =
            [ftyp.clone(), vec![0, 0, 0, 1], b"mdat".to_vec(), 20u64.to_be_bytes().to_vec(), vec![0; 4]].concat();
        assert_eq!(check(&large), Ok(()));

        assert!(check(&good[..good.len() - 1]).is_err(), "truncated");
        assert!(check(&[ftyp.clone(), boxed(b"free", &[0; 8])].concat()).is_err(), "no movie");
        assert!(check(&[boxed(b"moov", &[0; 8]), ftyp.clone()].concat()).is_err(), "ftyp not first");
        assert!(check(&[ftyp.clone(), vec![0, 0, 0, 4], b"mdat".to_vec()].concat()).is_err(), "size under header");
        assert!(check(&[ftyp, vec![0, 0, 0, 9], b"md\0t".to_vec(), vec![0]].concat()).is_err(), "binary type");
    }
}
