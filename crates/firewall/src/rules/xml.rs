//! XML injection and external entities: DTDs that declare entities or load external
//! resources, XInclude, and values that break out of an XML element.

use super::{Category::Xml, PatternDef, Severity::*, p};
use crate::normalize::Variant::Folded;

/// Pattern rules.
pub const PATTERNS: &[PatternDef] = &[
    // Entity declarations: the heart of XXE and billion-laughs.
    p("xml-101", Xml, Critical, Folded, r"<!\s*entity\b"),
    // A DTD with an internal subset or an external identifier.
    p(
        "xml-102",
        Xml,
        Critical,
        Folded,
        r#"<!\s*doctype\s+[\w:.-]+\s*(\[|(system|public)\s+['"])|<!\s*(attlist|element|notation)\b"#,
    ),
    // External identifiers pointing at files or other hosts.
    p(
        "xml-103",
        Xml,
        Critical,
        Folded,
        r#"\b(system|public\s+['"][^'"]*['"])\s+['"]\s*(file|https?|ftp|php|expect|jar|gopher|netdoc|data|dict|ldap)s?:"#,
    ),
    // XInclude and XSLT processing.
    p(
        "xml-104",
        Xml,
        Critical,
        Folded,
        r#"<\s*xi\s*:\s*include\b|xmlns\s*:\s*xi\s*=|<\s*xsl\s*:\s*(stylesheet|value-of|copy-of|include|import|template)\b|<\?\s*xml-stylesheet\b"#,
    ),
    // Parameter-entity references (`%xxe;`) used by blind XXE.
    p(
        "xml-105",
        Xml,
        Critical,
        Folded,
        r"%[a-z_][\w.-]{0,30};\s*(\]|%|<|$)",
    ),
    // CDATA breakout and element injection into a value.
    p(
        "xml-106",
        Xml,
        Warning,
        Folded,
        r"\]\]>\s*<|<!\[cdata\[.{0,200}<\s*(script|!entity|!doctype)",
    ),
    // A value that starts inside an element: it closes it and opens a sibling.
    p(
        "xml-108",
        Xml,
        Critical,
        Folded,
        r"^[^<>]*</[a-z][\w:.-]*>\s*<[a-z][\w:.-]*\s*/?>",
    ),
    // Schema composition (`<xs:include>`, `<xs:import>`, `<xs:redefine>`): a validating
    // parser fetches the referenced schema, an SSRF and XXE vector. A request body is an
    // instance document, not a schema; `xsi:schemaLocation` hints in instances (GPX, UBL)
    // stay allowed. Schema-registry routes disable this rule.
    p(
        "xml-109",
        Xml,
        Critical,
        Folded,
        r"<\s*(xs|xsd)\s*:\s*(include|import|redefine|override)\b",
    ),
    // Round 9. XPath injection: node-set functions over the document root or an axis
    // (`count(/child::node())`, `' and count(/@*)=1 and '1'='1`, `name(/*[1])`,
    // `string-length(//user[1]/password)`): what a blind XPath probe walks the document
    // with. Prose writes `count` and `name` with words in the parentheses, not paths.
    p(
        "xml-110",
        Xml,
        Critical,
        Folded,
        r"\b(count|name|local-name|string-length|substring|string|normalize-space|contains|starts-with)\s*\(\s*(/|\.\./|@\*|(child|descendant|descendant-or-self|ancestor|ancestor-or-self|following|following-sibling|preceding|preceding-sibling|parent|self|attribute)::)|\b(child|descendant|ancestor|following-sibling|preceding-sibling|attribute)::(node|text|comment)\s*\(\s*\)|\bcount\s*\(\s*//\w",
    ),
];
