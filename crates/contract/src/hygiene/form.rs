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
        };
        assert!(check_form(b"a=1&b=2", l).is_ok());
        assert_eq!(check_form(b"a=1&b=2&c=3", l).unwrap_err().rule, "maxFields");
        assert_eq!(
            check_form(b"a=12345", l).unwrap_err().rule,
            "maxFieldLength"
        );
        assert!(check_form(b"a=%41%41%41%41", l).is_ok());
    }
}
