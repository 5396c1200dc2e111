//! The one Vietnamese text helper used everywhere.
//!
//! * [`fold`] makes search ignore diacritics and case: "Quy Nhon" finds "Quy Nhơn",
//!   "da nang" finds "Đà Nẵng" (đ folds to d, which Unicode decomposition alone does not do).
//! * [`collation_key`] sorts in Vietnamese dictionary order: the letters ă, â, đ, ê, ô, ơ, ư are
//!   letters of their own (a < ă < â < b …), tones only break ties (ngang < huyền < hỏi < ngã <
//!   sắc < nặng), and case breaks ties after tones. The key is a plain string so that any store
//!   (SQLite, PostgreSQL) sorts by it with byte order, without a locale-aware collation.

use std::cmp::Ordering;
use unicode_normalization::UnicodeNormalization;

/// Folds text for search: lower case, no diacritics, đ → d, runs of whitespace collapsed.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match c {
            'đ' | 'Đ' => out.push('d'),
            _ => out.extend(c.to_lowercase().filter(|l| !is_combining_mark(*l))),
        }
    }
    out
}

/// True when `haystack` contains `needle` once both are folded.
pub fn matches(haystack: &str, needle: &str) -> bool {
    fold(haystack).contains(&fold(needle))
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF)
}

/// The Vietnamese alphabet in order. Letters not in it (f, j, w, z and foreign letters) sort by
/// their Latin position among these, after the letter they follow.
const ALPHABET: [&str; 29] = [
    "a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "g", "h", "i", "k", "l", "m", "n", "o", "ô", "ơ", "p", "q", "r", "s",
    "t", "u", "ư", "v", "x", "y",
];

/// Tone marks in dictionary order; index 0 is the level tone (no mark).
const TONES: [char; 5] = ['\u{0300}', '\u{0309}', '\u{0303}', '\u{0301}', '\u{0323}'];

/// Shape marks that make a new letter rather than a tone.
const SHAPES: [char; 3] = ['\u{0306}', '\u{0302}', '\u{031B}'];

struct Weights {
    primary: u32,
    tone: u8,
    upper: bool,
}

fn letter_weight(base: char, shape: Option<char>) -> u32 {
    let mut letter = String::new();
    letter.push(base);
    if let Some(s) = shape {
        letter.push(s);
    }
    let composed: String = letter.nfc().collect();
    if let Some(i) = ALPHABET.iter().position(|l| *l == composed) {
        return 1_000 + 10 * i as u32;
    }
    if base.is_ascii_lowercase() {
        // f, j, w, z: just after the closest preceding Vietnamese letter.
        let prev = ALPHABET.iter().rposition(|l| l.len() == 1 && l.as_bytes()[0] < base as u8).unwrap_or(0);
        return 1_000 + 10 * prev as u32 + 5;
    }
    0x10_000 + base as u32
}

fn weights(text: &str) -> Vec<Weights> {
    let mut out: Vec<Weights> = Vec::with_capacity(text.len());
    for c in text.nfd() {
        if TONES.contains(&c) {
            if let Some(last) = out.last_mut() {
                last.tone = TONES.iter().position(|t| *t == c).map_or(0, |i| i as u8 + 1);
            }
            continue;
        }
        if SHAPES.contains(&c) {
            if let Some(last) = out.last_mut() {
                // Recompute the letter with its shape mark; the base is recoverable from the weight.
                if let Some(base) = base_of(last.primary) {
                    last.primary = letter_weight(base, Some(c));
                }
            }
            continue;
        }
        if is_combining_mark(c) {
            continue;
        }
        let upper = c.is_uppercase();
        let lower = match c {
            'Đ' => 'đ',
            _ => c.to_lowercase().next().unwrap_or(c),
        };
        let primary = if lower.is_whitespace() {
            1
        } else if lower.is_ascii_digit() {
            100 + lower as u32
        } else if lower.is_alphabetic() {
            letter_weight(lower, None)
        } else {
            10 + (lower as u32 % 80)
        };
        out.push(Weights { primary, tone: 0, upper });
    }
    out
}

fn base_of(primary: u32) -> Option<char> {
    if (1_000..1_000 + 10 * ALPHABET.len() as u32).contains(&primary) && primary.is_multiple_of(10) {
        let letter = ALPHABET[((primary - 1_000) / 10) as usize];
        let mut chars = letter.chars();
        let c = chars.next()?;
        return chars.next().is_none().then_some(c);
    }
    None
}

/// A key whose byte order is Vietnamese dictionary order of the text.
pub fn collation_key(text: &str) -> String {
    let w = weights(text);
    let mut key = String::with_capacity(w.len() * 8 + 4);
    for x in &w {
        key.push_str(&format!("{:05x}", x.primary));
    }
    key.push('!');
    for x in &w {
        key.push(char::from(b'0' + x.tone));
    }
    key.push('!');
    for x in &w {
        key.push(if x.upper { '1' } else { '0' });
    }
    key
}

/// Compares two texts in Vietnamese dictionary order.
pub fn compare(a: &str, b: &str) -> Ordering {
    collation_key(a).cmp(&collation_key(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folding_removes_diacritics_and_d_stroke() {
        assert_eq!(fold("Đà Nẵng"), "da nang");
        assert_eq!(fold("  Phường   Quy Nhơn "), "phuong quy nhon");
        assert_eq!(fold("ĐẶC KHU Lý Sơn"), "dac khu ly son");
        assert!(matches("Phường Quy Nhơn Đông", "quy nhon dong"));
        assert!(matches("Sở Khoa học và Công nghệ", "KHOA HOC"));
        assert!(!matches("Phường Pleiku", "Quy Nhon"));
    }

    #[test]
    fn letters_with_marks_sort_after_their_base() {
        let mut words = vec!["đ", "d", "ư", "u", "ơ", "ô", "o", "â", "ă", "a", "ê", "e", "b"];
        words.sort_by(|a, b| compare(a, b));
        assert_eq!(words, ["a", "ă", "â", "b", "d", "đ", "e", "ê", "o", "ô", "ơ", "u", "ư"]);
    }

    #[test]
    fn tones_only_break_ties() {
        let mut words = vec!["mạ", "má", "mã", "mả", "mà", "ma", "mb"];
        words.sort_by(|a, b| compare(a, b));
        assert_eq!(words, ["ma", "mà", "mả", "mã", "má", "mạ", "mb"]);
        // A tone on an early letter does not beat a later letter's order.
        assert_eq!(compare("Án", "Ăn"), Ordering::Less);
    }

    #[test]
    fn real_place_names_sort_as_a_vietnamese_reader_expects() {
        let mut names = vec!["Xã Ân Hảo", "Xã An Lão", "Phường Đống Đa", "Phường Bồng Sơn", "Xã Ia Grai"];
        names.sort_by(|a, b| compare(a, b));
        assert_eq!(names, ["Phường Bồng Sơn", "Phường Đống Đa", "Xã An Lão", "Xã Ân Hảo", "Xã Ia Grai"]);
    }

    #[test]
    fn digits_sort_before_letters_and_spaces_first() {
        assert_eq!(compare("Khu 2", "Khu A"), Ordering::Less);
        assert_eq!(compare("An", "An Nhơn"), Ordering::Less);
        assert_eq!(compare("An Nhơn", "Ana"), Ordering::Less);
    }

    proptest! {
        #[test]
        fn fold_is_idempotent_and_never_panics(s in "\\PC*") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once);
        }

        #[test]
        fn collation_is_a_total_order(a in "\\PC{0,12}", b in "\\PC{0,12}") {
            let ab = compare(&a, &b);
            prop_assert_eq!(ab.reverse(), compare(&b, &a));
        }
    }
}
