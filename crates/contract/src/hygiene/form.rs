//! A check of `application/x-www-form-urlencoded` bodies: number of fields and the decoded
//! length of each name and value.

use crate::violation::Violation;

/// The limits the form checker applies.
#[derive(Clone, Copy, Debug)]
pub struct FormLimits {
    /// Most fields.
    pub max_fields: usize,
    /// Longest name or value after percent-decoding, in bytes.
    pub max_field_bytes: usize,
    /// Let a `_method` field through (a method override; see `head.rs`).
    pub allow_method_override: bool,
}

/// Checks one url-encoded body.
pub fn check_form(body: &[u8], limits: FormLimits) -> Result<(), Violation> {
    let mut fields: usize = 0;
    for (name, value) in form_urlencoded::parse(body) {
        fields = fields.saturating_add(1);
        if fields > limits.max_fields {
            return Err(Violation::new(
                "/body",
                "maxFields",
                format!("more than {} fields", limits.max_fields),
            ));
        }
        if name.len() > limits.max_field_bytes || value.len() > limits.max_field_bytes {
            return Err(Violation::new(
                "/body",
                "maxFieldLength",
                format!("a field is longer than {} bytes", limits.max_field_bytes),
            ));
        }
        if name.contains('\0') || value.contains('\0') {
            return Err(Violation::new("/body", "nul", "a field holds a NUL byte"));
        }
        if !limits.allow_method_override
            && name.eq_ignore_ascii_case("_method")
            && super::head::switches_method(&value, "POST")
        {
            return Err(Violation::new(
                "/body/_method",
                "methodOverride",
                "method overrides are not accepted on this route",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let l = FormLimits {
            max_fields: 2,
            max_field_bytes: 4,
            allow_method_override: false,
        };
        assert!(check_form(b"a=1&b=2", l).is_ok());
        assert_eq!(check_form(b"a=1&b=2&c=3", l).unwrap_err().rule, "maxFields");
        assert_eq!(
            check_form(b"a=12345", l).unwrap_err().rule,
            "maxFieldLength"
        );
        assert!(check_form(b"a=%41%41%41%41", l).is_ok());
        assert_eq!(check_form(b"a=b%00", l).unwrap_err().rule, "nul");
        let l = FormLimits {
            max_field_bytes: 16,
            ..l
        };
        assert_eq!(
            check_form(b"_method=put", l).unwrap_err().rule,
            "methodOverride"
        );
        assert!(check_form(b"method=put", l).is_ok());
        let allow = FormLimits {
            allow_method_override: true,
            ..l
        };
        assert!(check_form(b"_method=put", allow).is_ok());
    }
}
