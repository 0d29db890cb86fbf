//! The normalisation pipeline: one attacker-controlled value in, the variants detectors
//! look at out.
//!
//! Applied once per value. Every step is a single linear pass over bounded input, and no
//! step grows its input by more than a small constant factor, so the work per value is
//! bounded by [`Limits::max_value_bytes`].
//!
//! | variant   | made of                                                                 |
//! |-----------|-------------------------------------------------------------------------|
//! | `decoded` | URL decoding (until stable, at most 4 rounds; `%uXXXX`), overlong UTF-8 → ASCII, a stray Latin-1 no-break space byte (`%a0`) → space, `\xNN` / `\uNNNN` escapes, HTML entities, NUL removed, full-width ASCII → ASCII |
//! | `lower`   | `decoded`, lower-cased (line breaks kept, for CRLF rules)               |
//! | `folded`  | `lower`, every whitespace run folded to one space                       |
//! | `sql`     | `lower` with SQL / C comments (`/* */`, `/*!50000`, `--`, `#`) and `+` replaced by a space, then folded |
//! | `cmd`     | `lower` (whitespace folded, line breaks kept) without `\ ' " ^`, `$IFS` / `${IFS}` / `$@` / `$9` turned into separators (shell evasions) |
//! | `path`    | `folded` with `\` → `/`, `//` and `/./` collapsed                       |

/// Default cap on the bytes of one value that are inspected (64 KiB).
pub const DEFAULT_MAX_VALUE_BYTES: usize = 64 * 1024;

/// Bounds of the normaliser.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Bytes of a value inspected; the rest is ignored. Default [`DEFAULT_MAX_VALUE_BYTES`].
    pub max_value_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
        }
    }
}

/// Rounds of URL decoding at most (double, triple and quadruple encoding).
const MAX_URL_ROUNDS: usize = 4;

/// The normalised variants of one value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Normalized {
    /// Fully decoded, case preserved.
    pub decoded: String,
    /// `decoded`, lower-cased, line breaks kept.
    pub lower: String,
    /// `lower` with whitespace runs folded to one space.
    pub folded: String,
    /// `lower` without SQL / C comments, folded.
    pub sql: String,
    /// `lower` without shell quoting and `$IFS` tricks, whitespace folded but line breaks
    /// kept (a newline separates shell commands).
    pub cmd: String,
    /// `folded` with backslashes as slashes and `//`, `/./` collapsed.
    pub path: String,
    /// The input was longer than the limit and was cut.
    pub truncated: bool,
}

impl Normalized {
    /// Normalises `raw` (any bytes) within `limits`. Never panics.
    pub fn new(raw: &[u8], limits: Limits) -> Self {
        let truncated = raw.len() > limits.max_value_bytes;
        let raw = raw.get(..limits.max_value_bytes).unwrap_or(raw);
        let decoded = decode(raw);
        let lower = decoded.to_lowercase();
        let folded = fold_whitespace(&lower);
        // `+` is a space to every form decoder; in a path or a raw body it reaches the
        // SQL detectors undecoded (`24'union+all+select`).
        let sql = fold_whitespace(&strip_sql_comments(&lower).replace('+', " "));
        let cmd = shell_unquote(&lower);
        let path = path_form(&folded);
        Self {
            decoded,
            lower,
            folded,
            sql,
            cmd,
            path,
            truncated,
        }
    }

    /// The variant a rule runs on.
    pub fn variant(&self, v: Variant) -> &str {
        match v {
            Variant::Decoded => &self.decoded,
            Variant::Lower => &self.lower,
            Variant::Folded => &self.folded,
            Variant::Sql => &self.sql,
            Variant::Cmd => &self.cmd,
            Variant::Path => &self.path,
        }
    }
}

/// Which normalised form a rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// [`Normalized::decoded`].
    Decoded,
    /// [`Normalized::lower`].
    Lower,
    /// [`Normalized::folded`].
    Folded,
    /// [`Normalized::sql`].
    Sql,
    /// [`Normalized::cmd`].
    Cmd,
    /// [`Normalized::path`].
    Path,
}

impl Variant {
    /// All variants, in a fixed order (index = position).
    pub const ALL: [Variant; 6] = [
        Variant::Decoded,
        Variant::Lower,
        Variant::Folded,
        Variant::Sql,
        Variant::Cmd,
        Variant::Path,
    ];

    /// Position in [`Variant::ALL`].
    pub fn index(self) -> usize {
        match self {
            Variant::Decoded => 0,
            Variant::Lower => 1,
            Variant::Folded => 2,
            Variant::Sql => 3,
            Variant::Cmd => 4,
            Variant::Path => 5,
        }
    }
}

/// Full decoding: URL rounds, overlong UTF-8, escapes, HTML entities, NUL removal,
/// full-width forms. Every step shrinks its input except the lossy UTF-8 conversion
/// (an invalid byte becomes the 3-byte U+FFFD), so the output is at most 3× the input.
pub fn decode(raw: &[u8]) -> String {
    let mut cur: Vec<u8> = form_plus_to_space(raw);
    for _ in 0..MAX_URL_ROUNDS {
        if !cur.contains(&b'%') {
            break;
        }
        let next = url_decode_once(&cur);
        if next == cur {
            break;
        }
        cur = next;
    }
    let cur = overlong_to_ascii(&cur);
    let had_backslash = cur.contains(&b'\\');
    let mut cur = unescape_backslash(&cur);
    // Escapes may have hidden a layer of percent encoding (`\u0025\u0032\u0037` is `%27`:
    // a tool that writes every character as `\u00XX` over an already URL-encoded payload).
    if had_backslash && has_percent_escape(&cur) {
        for _ in 0..MAX_URL_ROUNDS {
            let next = url_decode_once(&cur);
            if next == cur {
                break;
            }
            cur = next;
        }
        cur = overlong_to_ascii(&cur);
        // And the URL layer may hide escapes in turn (`\u005c\u0078\u0032\u0038` →
        // `%5Cx28` → `\x28`): one more escape pass, no further.
        cur = unescape_backslash(&cur);
    }
    let text = lossy_with_nbsp(&cur);
    let had_entities = text.contains('&');
    let mut text = html_unescape(&text);
    // `&amp;lt;` (entities encoded twice, e.g. by an XML body around an HTML payload).
    if text.contains('&') {
        text = html_unescape(&text);
    }
    let text = if had_entities && text.contains('%') {
        // Entities may have hidden one more layer of percent encoding (`&#37;27`).
        let again = url_decode_once(text.as_bytes());
        String::from_utf8_lossy(&overlong_to_ascii(&again)).into_owned()
    } else {
        text
    };
    text.chars()
        .filter(|&c| c != '\0' && !is_invisible_format(c))
        .map(fullwidth_to_ascii)
        .collect()
}

/// Whether `b` holds a `%XX` escape.
fn has_percent_escape(b: &[u8]) -> bool {
    b.windows(3)
        .any(|w| matches!(w, [b'%', h, l] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit()))
}

/// Invisible format characters (byte order mark, zero-width space / joiners, word joiner,
/// soft hyphen; round 9: the bidirectional marks, embeddings, overrides and isolates,
/// `<\u{202e}script\u{202e}>`): a browser ignores them inside `javascript:\u{feff}alert(1)`, and removing
/// them cannot create a word that was not visible.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{feff}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'
            | '\u{2066}'..='\u{2069}'
            | '\u{00ad}'
    )
}

/// A value written by a form encoder — `%XX` escapes and `+`, no literal space — reaches
/// an application that decodes it as a form: `+` is a space there (`;+cat+/etc/passwd` in
/// a path or a JSON string). A value with real spaces keeps its `+` (`C++`, `1 + 1`), and a
/// `+` the client meant arrives as `%2B` and is decoded after this.
fn form_plus_to_space(raw: &[u8]) -> Vec<u8> {
    let form_encoded = raw.contains(&b'+')
        && !raw
            .iter()
            .any(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        && raw
            .windows(3)
            .any(|w| matches!(w, [b'%', h, l] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit()));
    if form_encoded {
        raw.iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect()
    } else {
        raw.to_vec()
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn hex_at(s: &[u8], i: usize, n: usize) -> Option<u32> {
    let digits = s.get(i..i.checked_add(n)?)?;
    let mut v: u32 = 0;
    for &d in digits {
        v = v.checked_mul(16)?.checked_add(u32::from(hex_val(d)?))?;
    }
    Some(v)
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// One round of `%XX` and `%uXXXX` decoding; invalid sequences stay as they are.
pub fn url_decode_once(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'%' {
            if let Some(v) = hex_at(s, i + 1, 2) {
                out.push(u8::try_from(v).unwrap_or(b'?'));
                i += 3;
                continue;
            }
            if matches!(s.get(i + 1), Some(b'u' | b'U'))
                && let Some(v) = hex_at(s, i + 2, 4)
            {
                push_char(&mut out, char::from_u32(v).unwrap_or('\u{fffd}'));
                i += 6;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// `String::from_utf8_lossy`, except that a stray `A0` byte (no UTF-8 sequence) becomes a
/// space: it is the Latin-1 no-break space, which MySQL (latin1 connections) and other
/// single-byte parsers read as whitespace, so `1%a0or%a01=1` is `1 or 1=1` to them.
fn lossy_with_nbsp(s: &[u8]) -> std::borrow::Cow<'_, str> {
    if !s.contains(&0xA0) {
        return String::from_utf8_lossy(s);
    }
    let mut out = String::with_capacity(s.len());
    for chunk in s.utf8_chunks() {
        out.push_str(chunk.valid());
        match chunk.invalid() {
            [] => {}
            [0xA0] => out.push(' '),
            _ => out.push('\u{FFFD}'),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Maps overlong UTF-8 encodings of ASCII (`C0 AF` = `/`, `E0 80 AE` = `.`) to the ASCII
/// byte, as broken decoders (and old IIS) would.
pub fn overlong_to_ascii(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if (b == 0xC0 || b == 0xC1)
            && let Some(&c) = s.get(i + 1)
            && (0x80..0xC0).contains(&c)
        {
            out.push(((b & 0x01) << 6) | (c & 0x3F));
            i += 2;
            continue;
        }
        if b == 0xE0
            && let (Some(&c1), Some(&c2)) = (s.get(i + 1), s.get(i + 2))
            && (0x80..0x82).contains(&c1)
            && (0x80..0xC0).contains(&c2)
        {
            out.push(((c1 & 0x01) << 6) | (c2 & 0x3F));
            i += 3;
            continue;
        }
        // Round 6: 4-, 5- and 6-byte overlong forms (`F0 80 80 AF`, `F8 80 80 80 AF`,
        // `FC 80 80 80 80 AF` = `/`) that old IIS / broken decoders also accept.
        let len = match b {
            0xF0 => 4,
            0xF8 => 5,
            0xFC => 6,
            _ => 0,
        };
        if len > 0
            && let Some(seq) = s.get(i + 1..i + len)
            && let Some((&last, rest)) = seq.split_last()
            && let Some((&hi, pad)) = rest.split_last()
            && pad.iter().all(|&c| c == 0x80)
            && (0x80..0x82).contains(&hi)
            && (0x80..0xC0).contains(&last)
        {
            out.push(((hi & 0x01) << 6) | (last & 0x3F));
            i += len;
            continue;
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Decodes `\xNN`, `\uNNNN`, `\{`, `\}`, `\$` and (two or more in a value) octal `\NNN`
/// escapes (JavaScript, PHP, Python, C string literals). Other backslashes stay.
fn unescape_backslash(s: &[u8]) -> Vec<u8> {
    if !s.contains(&b'\\') {
        return s.to_vec();
    }
    // JavaScript / C octal escapes (`\74svg o\156load`) are decoded only when a value has
    // two or more of them: one `\12` is more likely part of a Windows path.
    let octal = (0..s.len()).filter(|&i| octal_at(s, i).is_some()).count() >= 2;
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'\\' {
            if octal && let Some((v, len)) = octal_at(s, i) {
                out.push(v);
                i += len;
                continue;
            }
            match s.get(i + 1) {
                Some(b'x' | b'X') => {
                    if let Some(v) = hex_at(s, i + 2, 2) {
                        out.push(u8::try_from(v).unwrap_or(b'?'));
                        i += 4;
                        continue;
                    }
                }
                Some(b'u' | b'U') => {
                    if let Some(v) = hex_at(s, i + 2, 4) {
                        push_char(&mut out, char::from_u32(v).unwrap_or('\u{fffd}'));
                        i += 6;
                        continue;
                    }
                }
                // `\{`, `\}`, `\$` are the characters themselves in every language that
                // escapes them (`$\{$\{::-j\}ndi:` is a Log4Shell lookup).
                Some(&c @ (b'{' | b'}' | b'$')) => {
                    out.push(c);
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// An octal escape at `i` (`\NN` or `\NNN`) of a printable ASCII character: its byte and
/// length.
fn octal_at(s: &[u8], i: usize) -> Option<(u8, usize)> {
    if s.get(i) != Some(&b'\\') {
        return None;
    }
    // Up to three octal digits, without allocating: this runs at every backslash.
    let mut v = 0u32;
    let mut best = None;
    for n in 1..=3 {
        let Some(&d) = s.get(i + n).filter(|d| (b'0'..=b'7').contains(*d)) else {
            break;
        };
        v = v * 8 + u32::from(d - b'0');
        // The longest escape that is a printable character: JavaScript reads `\501` as
        // `\50` then `1`.
        if n >= 2
            && let Ok(b) = u8::try_from(v)
            && (0x20..0x7f).contains(&b)
        {
            best = Some((b, n + 1));
        }
    }
    best
}

#[cfg(test)]
mod octal_tests {
    use super::unescape_backslash;

    #[test]
    fn octal_escapes_decode_when_two_or_more_including_at_the_end() {
        assert_eq!(
            unescape_backslash(br"\74svg o\156load\75alert\501\51\76"),
            b"<svg onload=alert(1)>".to_vec()
        );
        // One escape alone is left as written (a Windows path).
        assert_eq!(
            unescape_backslash(br"C:\12\notes"),
            br"C:\12\notes".to_vec()
        );
    }
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "colon" => ':',
        "tab" | "Tab" => '\t',
        "newline" | "NewLine" => '\n',
        "lpar" => '(',
        "rpar" => ')',
        "sol" => '/',
        "bsol" => '\\',
        "semi" => ';',
        "comma" => ',',
        "period" => '.',
        "excl" => '!',
        "num" => '#',
        "dollar" => '$',
        "percnt" => '%',
        "lsqb" | "lbrack" => '[',
        "rsqb" | "rbrack" => ']',
        "lcub" | "lbrace" => '{',
        "rcub" | "rbrace" => '}',
        "equals" => '=',
        "plus" => '+',
        "ast" | "midast" => '*',
        "grave" => '`',
        "hat" => '^',
        "verbar" | "vert" => '|',
        "lowbar" => '_',
        "quest" => '?',
        "commat" => '@',
        "Hat" => '^',
        _ => return None,
    })
}

/// Decodes HTML character references: named (a common set, `;` required), decimal and hex
/// (`;` optional, as browsers accept).
pub fn html_unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut last = 0;
    while let Some(&c) = b.get(i) {
        if c != b'&' {
            i += 1;
            continue;
        }
        if let Some((ch, len)) = entity_at(b, i) {
            out.push_str(s.get(last..i).unwrap_or(""));
            out.push(ch);
            i += len;
            last = i;
        } else {
            i += 1;
        }
    }
    out.push_str(s.get(last..).unwrap_or(""));
    out
}

/// Parses a character reference starting at `b[i] == '&'`: the char and the bytes consumed.
fn entity_at(b: &[u8], i: usize) -> Option<(char, usize)> {
    let mut j = i + 1;
    if b.get(j) == Some(&b'#') {
        j += 1;
        let hex = matches!(b.get(j), Some(b'x' | b'X'));
        if hex {
            j += 1;
        }
        let start = j;
        // Browsers accept any number of leading zeros (`&#00000000000000000040;` is `(`).
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let significant = j;
        let mut v: u32 = 0;
        while let Some(&d) = b.get(j) {
            let dv = if hex {
                hex_val(d).map(u32::from)
            } else if d.is_ascii_digit() {
                Some(u32::from(d - b'0'))
            } else {
                None
            };
            let Some(dv) = dv else { break };
            v = v
                .saturating_mul(if hex { 16 } else { 10 })
                .saturating_add(dv);
            j += 1;
            if j - significant > 10 {
                return None;
            }
        }
        if j == start {
            return None;
        }
        if b.get(j) == Some(&b';') {
            j += 1;
        }
        let ch = char::from_u32(v).unwrap_or('\u{fffd}');
        return Some((ch, j - i));
    }
    let start = j;
    while let Some(&d) = b.get(j) {
        if !d.is_ascii_alphanumeric() || j - start > 10 {
            break;
        }
        j += 1;
    }
    if b.get(j) != Some(&b';') {
        return None;
    }
    let name = std::str::from_utf8(b.get(start..j)?).ok()?;
    named_entity(name).map(|ch| (ch, j + 1 - i))
}

/// Full-width ASCII forms (U+FF01..U+FF5E) to ASCII: `＜script＞` is `<script>` to some
/// back ends that apply NFKC.
fn fullwidth_to_ascii(c: char) -> char {
    let u = u32::from(c);
    if (0xFF01..=0xFF5E).contains(&u) {
        char::from_u32(u - 0xFF01 + 0x21).unwrap_or(c)
    } else {
        c
    }
}

/// Folds every run of whitespace (including vertical tab, form feed, NBSP) to one space.
pub fn fold_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_ws = false;
    for c in s.chars() {
        if c.is_whitespace() || c == '\u{0b}' || c == '\u{0c}' {
            if !in_ws {
                out.push(' ');
            }
            in_ws = true;
        } else {
            out.push(c);
            in_ws = false;
        }
    }
    out
}

/// Like [`fold_whitespace`], but a run containing a line break becomes one `\n`: for the
/// shell, a newline separates commands.
pub fn fold_whitespace_keep_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run: Option<char> = None;
    for c in s.chars() {
        if c.is_whitespace() {
            let nl = c == '\n' || c == '\r';
            run = Some(match run {
                Some('\n') => '\n',
                _ if nl => '\n',
                _ => ' ',
            });
        } else {
            if let Some(r) = run.take() {
                out.push(r);
            }
            out.push(c);
        }
    }
    if let Some(r) = run {
        out.push(r);
    }
    out
}

/// Replaces SQL / C comments with one space: `/* ... */` (the body of a MySQL versioned
/// comment `/*!50000 ... */` is kept), `-- ...` and `# ...` up to the end of the line.
pub fn strip_sql_comments(s: &str) -> String {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let next = b.get(i + 1).copied();
        if c == b'/' && next == Some(b'*') {
            if b.get(i + 2) == Some(&b'!') {
                // Versioned comment: keep the body, drop the marker and the version digits.
                let mut j = i + 3;
                while b.get(j).is_some_and(u8::is_ascii_digit) {
                    j += 1;
                }
                out.push(b' ');
                i = j;
                continue;
            }
            let end = find_from(b, i + 2, b"*/");
            out.push(b' ');
            i = end.map_or(b.len(), |e| e + 2);
            continue;
        }
        if c == b'*' && next == Some(b'/') {
            out.push(b' ');
            i += 2;
            continue;
        }
        if (c == b'-' && next == Some(b'-')) || c == b'#' {
            let mut j = i;
            while b.get(j).is_some_and(|&x| x != b'\n') {
                j += 1;
            }
            out.push(b' ');
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn find_from(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Undoes shell quoting tricks: `c'a't`, `c\at`, `c^at` (cmd.exe), `cat$IFS/etc/passwd`,
/// `cat${IFS}x`, `c$@at`.
pub fn shell_unquote(s: &str) -> String {
    if !s.contains(['$', '[', '\\', '\'', '"', '^', '`', '+', '(']) {
        return fold_whitespace_keep_lines(s);
    }
    let escaped_lines = escaped_line_breaks(s);
    let s = escaped_lines.as_deref().unwrap_or(s);
    let s = s
        .replace("${ifs}", " ")
        .replace("$ifs$9", " ")
        .replace("$ifs", " ")
        .replace("$()", "")
        .replace("<()", "")
        .replace(">()", "")
        .replace("``", "");
    let s = drop_shell_params(&s);
    // A value with no whitespace at all that joins words with `+` was written for a form
    // decoder (`|getent+hosts+x`): read the `+` as the space it stands for.
    let s = if s.contains('+') && !s.chars().any(char::is_whitespace) {
        s.replace('+', " ")
    } else {
        s
    };
    let s = unglob(&s);
    let out: String = s
        .chars()
        .filter(|c| !matches!(c, '\\' | '\'' | '"' | '^'))
        .collect();
    fold_whitespace_keep_lines(&out)
}

/// A value whose every backslash starts `\n`, `\r` or `\t` was written for something that
/// unescapes them (`\nid\n`, `;id\n` from command-injection lists aimed at a string that
/// is later unescaped): they become the line breaks and tab they stand for. A value with
/// other backslashes (`C:\new\id`, `c\at`) keeps them for the quote removal after.
fn escaped_line_breaks(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut any = false;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\\' {
            match b.get(i.saturating_add(1)) {
                Some(b'n' | b'r' | b't') => any = true,
                _ => return None,
            }
        }
    }
    any.then(|| {
        s.replace("\\n", "\n")
            .replace("\\r", "\n")
            .replace("\\t", " ")
    })
}

/// Length of the shell variable name starting at `b[from]`.
fn name_len(b: &[u8], from: usize) -> usize {
    b.get(from..)
        .unwrap_or_default()
        .iter()
        .take_while(|x| x.is_ascii_alphanumeric() || **x == b'_')
        .count()
}

/// Removes what a shell expands to nothing or to one character inside a word:
/// special parameters (`c$@at`, `c$?at`, `$_`, `$9`), unset `${x}` braces (`c${kk}url`), and
/// turns `${path:0:1}`-style slices into `/` and `+` between a word and a path or option
/// into a space (`cat+/etc/passwd`).
fn drop_shell_params(s: &str) -> String {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0usize;
    while let Some(&c) = b.get(i) {
        let next = b.get(i.saturating_add(1)).copied();
        if c == b'$' {
            match next {
                Some(b'@' | b'*' | b'?' | b'!' | b'-' | b'_' | b'$' | b'#' | b'0'..=b'9') => {
                    i = i.saturating_add(2);
                    continue;
                }
                Some(b'{') => {
                    let rest = b.get(i.saturating_add(2)..).unwrap_or_default();
                    if let Some(end) = rest.iter().take(40).position(|&x| x == b'}') {
                        let inner = rest.get(..end).unwrap_or_default();
                        let name_len = inner
                            .iter()
                            .take_while(|x| x.is_ascii_alphanumeric() || **x == b'_')
                            .count();
                        let tail = inner.get(name_len..).unwrap_or_default();
                        if name_len > 0 && tail.is_empty() {
                            i = i.saturating_add(3).saturating_add(end);
                            continue;
                        }
                        if name_len > 0 && tail == b":0:1" {
                            out.push(b'/');
                            i = i.saturating_add(3).saturating_add(end);
                            continue;
                        }
                    }
                }
                // A one- or two-letter variable glued inside a word (`cat$u+/etc$u/passwd`):
                // unset, it expands to nothing; real names (`$HOME`, `$PATH`) are longer.
                Some(b'a'..=b'z')
                    if out.last().is_some_and(u8::is_ascii_alphanumeric)
                        && name_len(b, i.saturating_add(1)) <= 2 =>
                {
                    i = i
                        .saturating_add(1)
                        .saturating_add(name_len(b, i.saturating_add(1)));
                    continue;
                }
                _ => {}
            }
        }
        // `+` next to a shell operator is the space a form encoder wrote (`1+&&+ls`).
        if c == b'+'
            && (matches!(next, Some(b'&' | b'|' | b';'))
                || out.last().is_some_and(|p| matches!(p, b'&' | b'|' | b';')))
        {
            out.push(b' ');
            i = i.saturating_add(1);
            continue;
        }
        if c == b'+'
            && matches!(next, Some(b'/' | b'-'))
            && out
                .last()
                .is_some_and(|p| p.is_ascii_alphanumeric() || *p == b'?')
        {
            out.push(b' ');
            i = i.saturating_add(1);
            continue;
        }
        out.push(c);
        i = i.saturating_add(1);
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Replaces one-character glob classes by their character: `/etc/pas[s]wd`, `/bi[n]/sh`.
fn unglob(s: &str) -> String {
    if !s.contains('[') {
        return s.to_owned();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '['
            && let (Some(&x), Some(']')) = (chars.get(i + 1), chars.get(i + 2))
            && x.is_ascii_alphanumeric()
        {
            out.push(x);
            i += 3;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// `value` without the short tags glued inside words (`o<x>nfocus=alert<x>(1)`), if it
/// has any: a sanitiser that strips unknown tags turns it into a working payload, so the
/// stripped form is inspected too. A tag counts when a letter, digit or `<` is right before
/// it and a letter, digit, `(`, `>` or `/` right after it (`<</div>script</div>>`); rich
/// text (`a <b>bold</b> word`) has spaces there and is left alone. CDATA markers are
/// removed as well.
pub fn strip_word_tags(value: &str) -> Option<String> {
    if !value.contains('<') {
        return None;
    }
    let original_len = value.len();
    // CDATA markers vanish the same way in an XML-to-HTML pipeline:
    // `<![CDATA[<]]>script<![CDATA[>]]>` is `<script>`.
    let uncdata;
    let value = if value.contains("<![CDATA[") || value.contains("<![cdata[") {
        uncdata = value
            .replace("<![CDATA[", "")
            .replace("<![cdata[", "")
            .replace("]]>", "");
        uncdata.as_str()
    } else {
        value
    };
    let b = value.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut stripped = false;
    let mut i = 0usize;
    while let Some(&c) = b.get(i) {
        if c == b'<'
            && out
                .last()
                .is_some_and(|p| p.is_ascii_alphanumeric() || *p == b'<')
        {
            let rest = b.get(i.saturating_add(1)..).unwrap_or_default();
            let rest = rest.strip_prefix(b"/").unwrap_or(rest);
            let name = rest
                .iter()
                .take(11)
                .take_while(|x| x.is_ascii_alphanumeric())
                .count();
            let closing = rest.get(name).copied();
            let after = rest.get(name.saturating_add(1)).copied();
            if (1..=10).contains(&name)
                && closing == Some(b'>')
                && after
                    .is_some_and(|a| a.is_ascii_alphanumeric() || matches!(a, b'(' | b'>' | b'/'))
            {
                let skipped = b.len() - rest.len() + name + 1 - i;
                i = i.saturating_add(skipped);
                stripped = true;
                continue;
            }
        }
        out.push(c);
        i = i.saturating_add(1);
    }
    (stripped || value.len() != original_len).then(|| String::from_utf8_lossy(&out).into_owned())
}

/// The value with string literals glued by `+`, `||` or `,` joined (`'al'+'ert(1)'`,
/// `['java'+''+'scr'+'ipt:']`, `'sel'||'ect'`, `un\",\"ion se\",\"lect`: list items a
/// `join` glues), or `None` if it has no such joint. Script
/// and SQL payloads are split into concatenated pieces so that no keyword appears whole;
/// the joined form is what the interpreter sees. A joint is a closing quote, `+` or `||`,
/// and an opening quote, with optional spaces; prose has none.
pub fn join_string_literals(value: &str) -> Option<String> {
    let b = value.as_bytes();
    // Most values have no quote or no joint character: no allocation for them.
    if !b.iter().any(|c| matches!(c, b'\'' | b'"'))
        || !b.iter().any(|c| matches!(c, b'+' | b'|' | b','))
    {
        return None;
    }
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut joined = false;
    let mut i = 0usize;
    while let Some(&c) = b.get(i) {
        if matches!(c, b'\'' | b'"') {
            let mut j = i.saturating_add(1);
            while b.get(j).is_some_and(|x| *x == b' ') {
                j = j.saturating_add(1);
            }
            while b.get(j).is_some_and(|x| *x == b' ') {
                j = j.saturating_add(1);
            }
            let op = match (b.get(j), b.get(j.saturating_add(1))) {
                (Some(b'+' | b','), _) => 1,
                (Some(b'|'), Some(b'|')) => 2,
                _ => 0,
            };
            if op > 0 {
                let mut k = j.saturating_add(op);
                while b.get(k).is_some_and(|x| *x == b' ') {
                    k = k.saturating_add(1);
                }
                if b.get(k) == Some(&b'\\') {
                    k = k.saturating_add(1);
                }
                if b.get(k).is_some_and(|x| matches!(x, b'\'' | b'"')) {
                    // A backslash escaping the closing quote goes with it (`un\",\"ion`).
                    if out.last() == Some(&b'\\') {
                        out.pop();
                    }
                    i = k.saturating_add(1);
                    joined = true;
                    continue;
                }
            }
        }
        out.push(c);
        i = i.saturating_add(1);
    }
    joined.then(|| String::from_utf8_lossy(&out).into_owned())
}

/// Path form: backslashes as slashes, `//` and `/./` collapsed.
pub fn path_form(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        // Backslash, and the look-alikes some servers fold to a separator; U+EFC8 and
        // U+F025 are private-use code points IIS's best-fit mapping turned into `/`
        // (`..%uEFC8..%uEFC8etc/passwd` in the dotdotpwn and fuzzdb lists).
        let c = if matches!(
            c,
            '\\' | '\u{2216}' | '\u{2044}' | '\u{2215}' | '\u{ff3c}' | '\u{efc8}' | '\u{f025}'
        ) {
            '/'
        } else {
            c
        };
        if c == '/' && out.ends_with('/') {
            continue;
        }
        if c == '/' && out.ends_with("/.") {
            out.pop();
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(s: &str) -> Normalized {
        Normalized::new(s.as_bytes(), Limits::default())
    }

    #[test]
    fn url_decoding_is_repeated_up_to_three_rounds() {
        assert_eq!(n("%27").decoded, "'");
        assert_eq!(n("%2527").decoded, "'");
        assert_eq!(n("%252527").decoded, "'");
        assert_eq!(n("%25252527").decoded, "'");
        assert_eq!(n("%2525252527").decoded, "%27");
        assert_eq!(n("%u003cscript%u003e").decoded, "<script>");
        assert_eq!(n("100%").decoded, "100%");
        assert_eq!(n("%zz%4").decoded, "%zz%4");
    }

    #[test]
    fn latin1_no_break_space_is_whitespace() {
        assert_eq!(decode(b"1%a0or%a01=1"), "1 or 1=1");
        // A real UTF-8 no-break space (C2 A0) stays one character; other stray bytes are
        // replacement characters.
        assert_eq!(decode(b"a%c2%a0b"), "a\u{a0}b");
        assert_eq!(decode(b"a%ffb"), "a\u{fffd}b");
    }

    #[test]
    fn overlong_and_escapes_and_entities() {
        assert_eq!(n("..%c0%af..%c0%afetc").decoded, "../../etc");
        assert_eq!(n("..%f0%80%80%af..%f8%80%80%80%afetc").decoded, "../../etc");
        assert_eq!(
            n("..%fc%80%80%80%80%af%f0%80").decoded,
            "../\u{fffd}\u{fffd}"
        );
        assert_eq!(n("%e0%80%ae%e0%80%ae/").decoded, "../");
        assert_eq!(n("\\x3cscript\\u003e").decoded, "<script>");
        assert_eq!(n("&lt;img src=x&gt;").decoded, "<img src=x>");
        assert_eq!(n("&#60;&#x3C;&#0000060&#x3c;").decoded, "<<<<");
        assert_eq!(n("&amp;#60;b&amp;gt;").decoded, "<b>");
        assert_eq!(n("java&Tab;script&colon;").decoded, "java\tscript:");
        assert_eq!(n("AT&T &amp co").decoded, "AT&T &amp co");
        assert_eq!(n("a\0b").decoded, "ab");
        assert_eq!(n("＜script＞").decoded, "<script>");
    }

    #[test]
    fn folding_and_sql_and_shell_and_path_forms() {
        let v = n("SELECT\t\n  *  FROM");
        assert_eq!(v.folded, "select * from");
        assert_eq!(v.lower, "select\t\n  *  from");
        assert_eq!(
            n("UN/**/ION/*!50000SELECT*/ 1-- x\nfrom").sql,
            "un ion select 1 from"
        );
        assert_eq!(n("1 # comment").sql, "1 ");
        assert_eq!(n("c'a't$IFS/etc/pa\\sswd").cmd, "cat /etc/passwd");
        assert_eq!(n("/bi[n]/ca[t] /etc/pas[s]wd").cmd, "/bin/cat /etc/passwd");
        assert_eq!(n("c$?at+/et$_c/pas$!swd").cmd, "cat /etc/passwd");
        assert_eq!(n("cu${kk}rl${PATH:0:1}x").cmd, "curl/x");
        assert_eq!(n("pi``ng$()x").cmd, "pingx");
        assert_eq!(n("${jndi:ldap://x}").cmd, "${jndi:ldap://x}");
        assert_eq!(n("24'union+all+select").sql, "24'union all select");
        assert_eq!(
            n("..\\..\\windows\\\\win.ini").path,
            "../../windows/win.ini"
        );
        assert_eq!(n("/etc/./passwd").path, "/etc/passwd");
    }

    #[test]
    fn long_values_are_truncated() {
        let big = vec![b'a'; 100];
        let v = Normalized::new(
            &big,
            Limits {
                max_value_bytes: 10,
            },
        );
        assert!(v.truncated);
        assert_eq!(v.decoded.len(), 10);
    }

    proptest! {
        #[test]
        fn never_panics_and_stays_bounded(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let v = Normalized::new(&bytes, Limits { max_value_bytes: 256 });
            let cap = 256 * 3;
            prop_assert!(v.decoded.len() <= cap);
            prop_assert!(v.folded.len() <= cap * 2);
            prop_assert!(v.sql.len() <= cap * 2);
        }

        #[test]
        fn never_panics_on_encodingish_text(s in "[%&#;xuXU0-9a-fA-F\\\\<>'\"/.*-]{0,200}") {
            let _ = Normalized::new(s.as_bytes(), Limits::default());
        }
    }
}
