//! Moderation help: public text must not carry the personal data a citizen typed into it.

/// Masks phone numbers and e-mail addresses in free text, keeping everything else. Operators
/// still read and edit the public text before it is published; this is the safe default.
pub fn redact_personal(text: &str) -> String {
    let words: Vec<&str> = text.split_inclusive(char::is_whitespace).collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < words.len() {
        // A phone number may be typed with spaces ("0905 123 456"): join following digit groups.
        let mut j = i;
        let mut digits = 0;
        while j < words.len() && is_number_part(words[j]) {
            digits += words[j].chars().filter(char::is_ascii_digit).count();
            j += 1;
            if (9..=12).contains(&digits) {
                break;
            }
        }
        if (9..=12).contains(&digits) {
            let trailing: String = words[j - 1].chars().rev().take_while(|c| c.is_whitespace()).collect();
            out.push_str("[số điện thoại]");
            out.push_str(&trailing);
            i = j;
            continue;
        }
        let w = words[i];
        if w.contains('@') && w.split('@').nth(1).is_some_and(|d| d.contains('.')) {
            let trailing: String = w.chars().rev().take_while(|c| c.is_whitespace()).collect();
            out.push_str("[email]");
            out.push_str(&trailing);
        } else {
            out.push_str(w);
        }
        i += 1;
    }
    out
}

fn is_number_part(w: &str) -> bool {
    let core = w.trim_end_matches(|c: char| c.is_whitespace() || ",;".contains(c));
    !core.is_empty()
        && core.chars().any(|c| c.is_ascii_digit())
        && core.chars().all(|c| c.is_ascii_digit() || "+.-()".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_and_emails_are_masked() {
        assert_eq!(redact_personal("Gọi tôi 0905123456 nhé"), "Gọi tôi [số điện thoại] nhé");
        assert_eq!(redact_personal("SĐT: 0905 123 456, cảm ơn"), "SĐT: [số điện thoại] cảm ơn");
        assert_eq!(redact_personal("+84 905.123.456"), "[số điện thoại]");
        assert_eq!(redact_personal("mail an@vi.vn\nthanks"), "mail [email]\nthanks");
    }

    #[test]
    fn ordinary_numbers_stay() {
        let t = "Đèn số 12 trên đường 3/2 hỏng từ 2025, 300 m";
        assert_eq!(redact_personal(t), t);
    }
}
