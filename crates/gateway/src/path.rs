//! Path safety: refuse request paths whose meaning could differ between the gateway's router
//! and the upstream's.
//!
//! If the gateway routes `/public/../internal/x` to the public route and the upstream
//! normalises it to `/internal/x`, every path-based rule is bypassed. Instead of trying to
//! normalise exactly as every upstream would, the gateway refuses the ambiguous forms with
//! 400: dot segments (raw or percent-encoded), encoded `/` and `\`, raw `\`, NUL and other
//! control bytes (raw or encoded), and empty segments (`//`). Legitimate API paths never
//! need these.

/// Why a path was refused (for logs).
pub fn unsafe_path_reason(path: &str) -> Option<&'static str> {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Some("path_not_absolute");
    }
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => return Some("path_backslash"),
            0..=0x1f | 0x7f => return Some("path_control_byte"),
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex);
                let lo = bytes.get(i + 2).copied().and_then(hex);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Some("path_bad_percent_encoding");
                };
                let decoded = hi * 16 + lo;
                match decoded {
                    b'/' | b'\\' => return Some("path_encoded_separator"),
                    b'.' => return Some("path_encoded_dot"),
                    b'%' => return Some("path_double_encoding"),
                    0..=0x1f | 0x7f => return Some("path_control_byte"),
                    _ => {}
                }
                i += 3;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    for segment in path.split('/').skip(1) {
        if segment == "." || segment == ".." {
            return Some("path_dot_segment");
        }
    }
    // An empty segment anywhere but at the very end (`/a//b`) is refused; `/a/` is fine.
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    if trimmed.len() > 1 && trimmed.split('/').skip(1).any(str::is_empty) {
        return Some("path_empty_segment");
    }
    None
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ambiguous_paths_are_refused() {
        for p in [
            "/echo/../internal/",
            "/echo/..",
            "/echo/./x",
            "/echo/%2e%2e/internal",
            "/echo/%2E./internal",
            "/echo/..%2finternal",
            "/echo/%5cinternal",
            "/echo\\..\\internal",
            "/echo/%00",
            "/echo/%252e%252e/",
            "/a//b",
            "//internal/",
            "/a/%zz",
            "/a/%2",
            "relative",
        ] {
            assert!(unsafe_path_reason(p).is_some(), "{p} should be refused");
        }
    }

    #[test]
    fn ordinary_paths_pass() {
        for p in [
            "/",
            "/echo/",
            "/users/42",
            "/files/report.v2.pdf",
            "/a/b/",
            "/search/caf%C3%A9",
            "/a/%20b",
            "/.well-known/openid-configuration",
            "/a/...",
        ] {
            assert_eq!(unsafe_path_reason(p), None, "{p} should pass");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = unsafe_path_reason(&s);
        }

        #[test]
        fn plain_segments_pass(segs in proptest::collection::vec("[a-zA-Z0-9_~-]{1,8}", 0..6)) {
            let p = format!("/{}", segs.join("/"));
            prop_assert_eq!(unsafe_path_reason(&p), None);
        }
    }
}
