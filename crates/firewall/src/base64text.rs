//! Text hidden in base64: a value made only of base64 characters (standard or URL-safe
//! alphabet, padding optional) that decodes to printable UTF-8 text. Attack tools send
//! payloads this way because inspection that reads values as they come sees only letters;
//! an application that decodes the parameter then runs the payload. Binary (images,
//! ciphertext, tokens) never decodes to text, and identifiers that happen to use only
//! letters and digits (`password`, `Administrator1`) decode to invalid UTF-8 or control
//! bytes, so only values that really carry text are inspected a second time.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Shortest value considered: an encoded payload shorter than this carries at most five
/// bytes of text.
const MIN_LEN: usize = 8;

const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, CONFIG);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, CONFIG);

/// The text `value` encodes, if it is base64 of printable text with some punctuation in
/// it (an attack needs quotes, brackets or separators; plain words are not worth a second
/// pass). `max_len` bounds the encoded length; 0 turns decoding off.
pub fn decoded_text(value: &str, max_len: usize) -> Option<String> {
    let v = value.trim();
    if v.len() < MIN_LEN || v.len() > max_len {
        return None;
    }
    let body = v.trim_end_matches('=');
    if v.len() - body.len() > 2 || body.len() % 4 == 1 {
        return None;
    }
    let (mut url_safe, mut standard, mut spaced) = (false, false, false);
    for b in body.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => {}
            b'+' | b'/' => standard = true,
            // A form decoder turned the `+` of standard base64 into a space.
            b' ' => {
                standard = true;
                spaced = true;
            }
            b'-' | b'_' => url_safe = true,
            _ => return None,
        }
    }
    if url_safe && standard {
        return None;
    }
    let engine = if url_safe { &URL_SAFE } else { &STANDARD };
    let bytes = if spaced {
        engine.decode(body.replace(' ', "+")).ok()?
    } else {
        engine.decode(body).ok()?
    };
    let text = String::from_utf8(bytes).ok()?;
    // A NUL or two is a filter evasion (`<scr\0ipt`); binary has many.
    let printable = text.bytes().filter(|&b| b == 0).count() <= 2
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\0'));
    // Line breaks count: protocol injections (`\r\nQUIT\r\n`) need no punctuation.
    let punctuated = text
        .chars()
        .any(|c| c.is_ascii_punctuation() || matches!(c, '\n' | '\r'));
    (printable && punctuated).then_some(text)
}

/// Shortest base64 run inside a longer value that is decoded: 16 characters carry 12 bytes,
/// enough for `javascript:` and a call; shorter runs are ordinary words and ids.
const MIN_EMBEDDED_LEN: usize = 16;
/// Runs decoded per value, so that a long value of base64-looking words costs little.
const MAX_EMBEDDED_RUNS: usize = 4;

/// The texts encoded by base64 runs *inside* a value that is not base64 as a whole: an
/// attribute value or parameter after `=` or a quote (`<a href=amF2YXNjcmlwdDph…>`,
/// `<img/src=YCUwMGAlMjBvbmVy…`). Only runs right after `=`, a quote, `(` or a space that
/// mix upper and lower case are tried, and each must pass [`decoded_text`]'s text test.
pub fn embedded_texts(value: &str, max_len: usize) -> Vec<String> {
    let mut out = Vec::new();
    if max_len == 0 || value.len() < MIN_EMBEDDED_LEN {
        return out;
    }
    let b = value.as_bytes();
    let is_b64 = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_');
    let mut i = 0usize;
    let mut tried = 0usize;
    while i < b.len() && tried < MAX_EMBEDDED_RUNS {
        let starts_run = b.get(i).copied().is_some_and(is_b64)
            && i > 0
            && b.get(i - 1)
                .is_some_and(|p| matches!(p, b'=' | b'"' | b'\'' | b'(' | b' ' | b'>'));
        if !starts_run {
            i += 1;
            continue;
        }
        let mut j = i;
        while b.get(j).copied().is_some_and(is_b64) {
            j += 1;
        }
        let mut end = j;
        while end < j + 2 && b.get(end) == Some(&b'=') {
            end += 1;
        }
        let run = value.get(i..end).unwrap_or("");
        let letters = value.get(i..j).unwrap_or("");
        if letters.len() >= MIN_EMBEDDED_LEN
            && letters.len() < value.len()
            && letters.bytes().any(|c| c.is_ascii_uppercase())
            && letters.bytes().any(|c| c.is_ascii_lowercase())
        {
            tried += 1;
            if let Some(text) = decoded_text(run, max_len) {
                out.push(text);
            }
        }
        i = j.max(i + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::decoded_text;

    #[test]
    fn text_in_either_alphabet_with_or_without_padding() {
        // "' or 1=1--"
        assert_eq!(
            decoded_text("JyBvciAxPTEtLQ==", 4096).as_deref(),
            Some("' or 1=1--")
        );
        assert_eq!(
            decoded_text("JyBvciAxPTEtLQ", 4096).as_deref(),
            Some("' or 1=1--")
        );
        // "<a>?>" has a `/`-free standard and a URL-safe form.
        assert_eq!(
            decoded_text("PHNjcmlwdD4_Pz8-", 4096).as_deref(),
            Some("<script>???>")
        );
    }

    #[test]
    fn a_plus_turned_into_a_space_by_form_decoding_still_decodes() {
        // "><script>x</script>" whose `+` a form decoder read as a space.
        assert_eq!(
            decoded_text("PjxzY3JpcHQ eDwvc2NyaXB0Pg", 4096).as_deref(),
            Some("><script>x</script>")
        );
        // Prose is not base64 of text.
        assert_eq!(decoded_text("see you at the pub", 4096), None);
    }

    #[test]
    fn line_breaks_count_as_structure() {
        // "\r\nQUIT\r\n": an IMAP/SMTP command injection without punctuation.
        assert_eq!(
            decoded_text("DQpRVUlUDQo", 4096).as_deref(),
            Some("\r\nQUIT\r\n")
        );
    }

    #[test]
    fn words_binary_and_long_values_are_not_text() {
        for v in [
            "password",
            "Administrator1",
            "abcdefgh",
            "2024-01-01",
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB",
        ] {
            assert_eq!(decoded_text(v, 4096), None, "{v}");
        }
        // Plain words decode but carry no punctuation.
        assert_eq!(decoded_text("aGVsbG8gd29ybGQ=", 4096), None);
        assert_eq!(decoded_text("JyBvciAxPTEtLQ==", 8), None);
        assert_eq!(decoded_text("JyBvciAxPTEtLQ==", 0), None);
    }
}
