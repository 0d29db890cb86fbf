//! A structural check of XML bodies. Any `<!DOCTYPE` is refused: without a DTD there are no
//! external entities (XXE) and no entity expansion (billion laughs). Entities are never
//! expanded here either; references other than the five predefined ones and character
//! references are refused, since no DTD can define them. Depth and element count are capped.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::violation::Violation;

/// The limits the XML checker applies.
#[derive(Clone, Copy, Debug)]
pub struct XmlLimits {
    /// Deepest element nesting.
    pub max_depth: usize,
    /// Most elements.
    pub max_elements: usize,
}

fn syntax() -> Violation {
    Violation::new("/body", "syntax", "body is not well-formed XML")
}

/// Checks one XML document (UTF-8 only).
pub fn check_xml(body: &[u8], limits: XmlLimits) -> Result<(), Violation> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(Violation::new("/body", "utf8", "body is not valid UTF-8"));
    };
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth: usize = 0;
    let mut elements: usize = 0;
    let mut open = |depth: &mut usize, nest: bool| -> Result<(), Violation> {
        elements = elements.saturating_add(1);
        if elements > limits.max_elements {
            return Err(Violation::new(
                "/body",
                "maxElements",
                format!("more than {} elements", limits.max_elements),
            ));
        }
        if *depth >= limits.max_depth {
            return Err(Violation::new(
                "/body",
                "maxDepth",
                format!("nesting deeper than {}", limits.max_depth),
            ));
        }
        if nest {
            *depth += 1;
        }
        Ok(())
    };
    loop {
        match reader.read_event() {
            Ok(Event::DocType(_)) => {
                return Err(Violation::new(
                    "/body",
                    "doctype",
                    "XML document type declarations are not accepted",
                ));
            }
            Ok(Event::GeneralRef(r)) => {
                let predefined = r.is_char_ref()
                    || matches!(r.as_ref(), b"lt" | b"gt" | b"amp" | b"apos" | b"quot");
                if !predefined {
                    return Err(Violation::new(
                        "/body",
                        "entity",
                        "XML entity references are not accepted",
                    ));
                }
            }
            Ok(Event::Start(_)) => open(&mut depth, true)?,
            Ok(Event::Empty(_)) => open(&mut depth, false)?,
            Ok(Event::End(_)) => depth = depth.checked_sub(1).ok_or_else(syntax)?,
            Ok(Event::Eof) => {
                return if depth == 0 { Ok(()) } else { Err(syntax()) };
            }
            Ok(_) => {}
            Err(_) => return Err(syntax()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: XmlLimits = XmlLimits {
        max_depth: 3,
        max_elements: 5,
    };

    fn rule(s: &str) -> Option<String> {
        check_xml(s.as_bytes(), L).err().map(|v| v.rule)
    }

    #[test]
    fn structure() {
        assert_eq!(
            rule("<?xml version=\"1.0\"?><a><b x=\"1\">t &amp; &#65;</b><c/></a>"),
            None
        );
        assert_eq!(
            rule("<a><b><c><d/></c></b></a>").as_deref(),
            Some("maxDepth")
        );
        assert_eq!(
            rule("<a><b/><b/><b/><b/><b/></a>").as_deref(),
            Some("maxElements")
        );
        assert_eq!(rule("<a><b></a>").as_deref(), Some("syntax"));
        assert_eq!(rule("<a>").as_deref(), Some("syntax"));
        assert_eq!(rule("<a>&foo;</a>").as_deref(), Some("entity"));
    }
}
