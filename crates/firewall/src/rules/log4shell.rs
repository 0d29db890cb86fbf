//! Log4Shell (CVE-2021-44228) and relatives: `${jndi:...}` lookups, including the nested
//! obfuscations (`${${lower:j}ndi:`, `${${::-j}${::-n}di:`) that exist only to evade
//! literal matching.

use super::{Category::Log4shell, PatternDef, Severity::*, p};
use crate::normalize::Variant::{Decoded, Folded};

/// Pattern rules.
pub const PATTERNS: &[PatternDef] = &[
    p("log4j-101", Log4shell, Critical, Folded, r"\$\{\s*jndi\s*:"),
    // A lookup nested inside a lookup: legitimate text never needs it.
    p(
        "log4j-102",
        Log4shell,
        Critical,
        Folded,
        r"\$\{[^}]{0,40}\$\{",
    ),
    // Lookup prefixes used to build or exfiltrate (`${env:AWS_SECRET}`, `${::-j}`).
    p(
        "log4j-103",
        Log4shell,
        Critical,
        Folded,
        r"\$\{\s*(lower|upper|env|sys|java|date|ctx|main|bundle|map|sd|k8s|docker|spring|web|log4j|base64|event|marker|jvmrunargs|hostname|::-)\s*:",
    ),
    // The protocol part of a JNDI URL even when `${` was mangled.
    p(
        "log4j-104",
        Log4shell,
        Critical,
        Folded,
        r"\bjndi\s*:\s*(ldaps?|rmi|dns|iiop|corba|nds|nis|https?)\s*:",
    ),
    // Character-spread obfuscation that survived decoding: `j}${::-n}`, `${:-j}`.
    p(
        "log4j-105",
        Log4shell,
        Error,
        Folded,
        r"\$\{\s*[\w:]*:-[^}]{0,3}\}",
    ),
    // Round 6. The argument-less Log4j lookups that leak the host (`${hostName}`) as the
    // whole value or glued to other text: a shell or template placeholder is usually a
    // variable of the app (`${host}`, `${HOSTNAME}` upper case is the shell's and passes).
    p(
        "log4j-106",
        Log4shell,
        Critical,
        Decoded,
        r"\$\{\s*(hostName|hostname)\s*\}",
    ),
];
