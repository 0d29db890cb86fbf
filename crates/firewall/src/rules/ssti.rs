//! Server-side template injection: template delimiters whose content is an expression
//! (arithmetic, attribute walking, class loading) rather than a plain variable name, so
//! that `Hello {{name}}` passes and `{{7*7}}` or `{{''.__class__}}` does not.

use super::{Category::Ssti, PatternDef, Severity::*, p};
use crate::normalize::Variant::Folded;

/// Pattern rules.
pub const PATTERNS: &[PatternDef] = &[
    // Arithmetic probes in every delimiter family: `{{7*7}}`, `${7*7}`, `#{7*7}`,
    // `<%= 7*7 %>`, `@(7*7)`, `[[${7*7}]]`, `{7*7}`.
    p(
        "ssti-101",
        Ssti,
        Critical,
        Folded,
        r#"(\{\{=?|\$\{|#\{|\*\{|<%=?)\s*\(*\s*['"]?\d+['"]?\s*[*+/%-]\s*['"]?\d+['"]?\s*\)*\s*(\}\}|\}|%>)|(\{|@\()\s*\d+\s*\*\s*\d+\s*(\}|\))"#,
    ),
    // Python object walking (Jinja2, Mako, Tornado).
    p(
        "ssti-102",
        Ssti,
        Critical,
        Folded,
        r"__(class|mro|subclasses|globals|builtins|import|bases|getattribute|reduce)__|\b(lipsum|cycler|joiner|namespace|url_for|get_flashed_messages)\s*\.\s*__|\|\s*attr\s*\(|\brequest\s*\.\s*application\s*\.|\bconfig\s*\.\s*(items|__class__|from_\w+)\s*\(",
    ),
    // Template statements and expressions that reach the runtime. Round 9: an object
    // literal inside the expression (`{{x.filter(0,0,1024,{'options':'system'})}}`) no
    // longer ends it at its own `}`.
    p(
        "ssti-103",
        Ssti,
        Critical,
        Folded,
        r#"\{\{([^}]|\}[^}]){0,200}\b(self|config|request|_self|range|dict|popen|system|exec|eval|import|getattr|os\.|subprocess|settings|environ|constructor|process|require|global|class|subclasses|mro|base|init|dump|_context|source|constant|attribute)\b([^}]|\}[^}]){0,200}\}\}|\{%\s*(import|include|extends|set|debug|raw|load|macro|call|filter)\b[^%]{0,200}%\}|\{%\s*for\b[^%]{0,200}\bin\s+(config|request|self|settings|environ|_self)\b|\{\{[^}]{0,200}['"]/(etc|proc|root|var|home|windows|boot)/|\{\{\s*['"][^'"]*['"]\s*\.\s*\w+|\{\{#with\s|\{\{\s*this\s*\.\s*\w+\s*\(|\{\{\s*_self\b"#,
    ),
    // Java expression languages (EL, SpEL, OGNL, Thymeleaf) reaching classes.
    p(
        "ssti-104",
        Ssti,
        Critical,
        Folded,
        r#"[$#*@]\{[^}]{0,200}(\bt\s*\(\s*java|getclass\s*\(|classloader|class\s*\.\s*forname|getruntime|processbuilder|\.exec\s*\(|new\s+java|@java|#_memberaccess|#context|#request|beans?\s*\.|applicationscope|sessionscope|header\[|param\.|facescontext)|__\$\{.{0,200}\}__|\[\[\s*\$\{"#,
    ),
    // FreeMarker, Velocity, Smarty, ERB, Razor.
    p(
        "ssti-105",
        Ssti,
        Critical,
        Folded,
        r#"<#\s*(assign|import|include|list|if|function|macro)\b|\?\s*new\s*\(\s*\)|freemarker\.template|\bexecute\s*\(\s*['"]|#set\s*\(\s*\$\w+\s*=|\$class\s*\.\s*(inspect|forname|type)|#foreach\s*\(|\{\s*(php\s*\}|(system|exec|eval|passthru)\s*\(|self::|\$smarty\.)|<%=?\s*(system|exec|eval|`|%x|io\.popen|file\.read|require|import|runtime|class|request|response|out\.print)|@\{?\s*(system\.|new\s+system)|@\(\s*\d+\s*\*"#,
    ),
    // Polyglot probes mixing the delimiters of several engines (`${{<%[%'"}}%\.`).
    p(
        "ssti-107",
        Ssti,
        Critical,
        Folded,
        r"(\$\{|\{\{|<%|\[%|#\{)[^a-z0-9\s]{0,4}(\$\{|\{\{|<%|\[%|#\{)[^a-z0-9\s]{0,4}(\$\{|\{\{|<%|\[%|#\{|\}\}|%>)",
    ),
    // Generic expression inside a double-brace or dollar-brace delimiter: calls, indexing,
    // operators. Weak alone: templating languages in documents look similar.
    p(
        "ssti-106",
        Ssti,
        Warning,
        Folded,
        r#"(\{\{|\$\{|#\{)[^}]{0,120}(\(\s*\)|\[\s*['"]|\|\s*\w+\s*\(|\.\s*\w+\s*\(|\*\s*\d)[^}]{0,120}\}"#,
    ),
    // Round 6. Razor (ASP.NET) expression probes: `@(7*7)`, `@(1+2)` — digits on both sides
    // of `*` / `+` inside `@( )`; a phone number `@(555) 123` or `@(555-1234)` passes.
    p(
        "ssti-108",
        Ssti,
        Critical,
        Folded,
        r"@\(\s*\d+\s*[*+]\s*\d+\s*\)",
    ),
];
