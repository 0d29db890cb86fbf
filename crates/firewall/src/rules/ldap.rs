//! LDAP filter injection: values that close a filter and open a new one (`*)(uid=*))(|(`),
//! or inject a wildcard comparison into an attribute assertion.

use super::{Category::Ldap, PatternDef, Severity::*, p};
use crate::normalize::Variant::Folded;

/// Attribute names LDAP injections target.
macro_rules! attrs {
    () => {
        r"(uid|cn|sn|ou|dc|o|c|l|mail|objectclass|objectcategory|userpassword|password|pwd|samaccountname|userprincipalname|memberof|member|givenname|displayname|description|telephonenumber|department|homedirectory|accountname|username|user|name|email|gidnumber|uidnumber|distinguishedname|admincount|useraccountcontrol|[a-z]{2,24})"
    };
}

/// Pattern rules.
pub const PATTERNS: &[PatternDef] = &[
    // A closed filter followed by a new one with an operator or an assertion.
    p(
        "ldap-101",
        Ldap,
        Critical,
        Folded,
        concat!(r"\)\s*\(\s*([|&!]\s*(\(|\)|$)|", attrs!(), r"\s*[~<>]?=)"),
    ),
    // Operator filters that open with a nested assertion: `(|(uid=*)`, `(&(objectclass=*)`.
    p(
        "ldap-102",
        Ldap,
        Critical,
        Folded,
        concat!(r"\(\s*[|&!]\s*\(\s*", attrs!(), r"\s*[~<>]?="),
    ),
    // A wildcard or presence test closing the filter: `admin*)`, `*)(`, `=*)`.
    p(
        "ldap-103",
        Ldap,
        Critical,
        Folded,
        r"^\s*\*\s*\)|=\s*\*\s*\)\s*(\(|\)|%00|\x00|$)|\*\s*\)\s*\(|\)\s*\)\s*\(\s*[|&]|\)\s*\(\s*[|&!]?\s*\)",
    ),
    // A value closing its assertion and chaining a new one with a bare operator, no opening
    // parenthesis before it (`val)&(cn=admin`, `x)|(uid=*`): the filter `(attr=VALUE)`
    // becomes `(attr=val)&(cn=admin)`. Prose puts words, not an operator, between brackets.
    p(
        "ldap-105",
        Ldap,
        Critical,
        Folded,
        concat!(r"\)\s*[|&!]\s*\(\s*", attrs!(), r"\s*[~<>]?="),
    ),
    // Assertion on a well-known attribute with a wildcard, and a filter value ending in `)`.
    p(
        "ldap-104",
        Ldap,
        Warning,
        Folded,
        r"\b(objectclass|objectcategory|userpassword|samaccountname|uid|cn|memberof)\s*=\s*\*|^[\w.@-]+\)\s*(\(|$)|\(\s*\|\s*\(",
    ),
    // Round 7. An extensible-match assertion (`userPassword:2.5.13.18:=x`,
    // `cn:dn:caseExactMatch:=x`): attribute, optional `:dn`, a matching rule by OID or name,
    // then `:=` — filter syntax that prose, URLs and identifiers never contain.
    p(
        "ldap-106",
        Ldap,
        Critical,
        Folded,
        r"\b[a-z][\w-]*(:dn)?:(\d+(\.\d+)+|[a-z]\w*match):=|(^|\()\s*:dn:[\w.]+:=",
    ),
    // Round 9. The LDAP metacharacter probe every scanner list sends (`*()|&'`,
    // `*)(|(&`): a whole value made only of filter metacharacters, with a wildcard, both
    // parentheses and an operator. No name, address or sentence is all punctuation.
    p(
        "ldap-107",
        Ldap,
        Critical,
        Folded,
        r#"^[\s*()|&!='"\\]*(\*[\s*()|&!='"\\]*[|&]|[|&][\s*()|&!='"\\]*\*)[\s*()|&!='"\\]*$"#,
    ),
];
