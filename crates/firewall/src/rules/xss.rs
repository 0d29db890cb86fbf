//! Cross-site scripting: libinjection's HTML5 tokenizer check plus patterns for script
//! tags, event handlers, script URIs and DOM sinks.

use super::{Category::Xss, Detector, Hit, PatternDef, RuleInfo, Severity::*, Subject, p};
use crate::normalize::Variant::{Cmd, Folded, Sql};

/// Event-handler attribute names (`onerror`, `onload` ...), spelled out so that ordinary
/// words beginning with "on" do not match.
macro_rules! handlers {
    () => {
        r"on(error|load|unload|beforeunload|click|dblclick|auxclick|contextmenu|mouse\w{2,8}|pointer\w{2,10}|key(down|up|press)|focus(in|out)?|blur|change|input|invalid|submit|reset|select|search|toggle|scroll(end)?|wheel|resize|drag\w{0,5}|drop|copy|cut|paste|animation\w{3,9}|transition\w{3,9}|touch\w{3,6}|begin|end|repeat|show|start|finish|message|hashchange|popstate|pageshow|pagehide|storage|online|offline|afterprint|beforeprint|readystatechange|play(ing)?|pause|ended|loadstart|loadend|loadeddata|loadedmetadata|canplay(through)?|volumechange|seeked|seeking|stalled|suspend|timeupdate|waiting|durationchange|emptied|ratechange|progress|abort|formdata|securitypolicyviolation|beforeinput|beforetoggle|content\w{3,30}|cuechange|fullscreen\w{3,6}|gotpointercapture|lostpointercapture|mozfullscreen\w{3,6}|webkit\w{3,25}|bounce|activate|beforeactivate|beforecopy|beforecut|beforepaste|propertychange|filterchange|zoom|help|rowenter|rowexit|datasetchanged|errorupdate|losecapture|move(start|end)?|selectstart|selectionchange)"
    };
}

/// Pattern rules, on the lower-cased whitespace-folded variant unless noted.
pub const PATTERNS: &[PatternDef] = &[
    p(
        "xss-101",
        Xss,
        Critical,
        Folded,
        r"<\s*/?\s*([a-z][\w-]*\s*:\s*)?script\b",
    ),
    // An event handler attribute after a tag, a quote, a slash or a space.
    p(
        "xss-102",
        Xss,
        Critical,
        Folded,
        concat!(r#"(<[a-z!][^>]*|['"`/]\s*|^\s*)\b"#, handlers!(), r"\s*="),
    ),
    // Script URIs where a URL is expected, followed by code (a call, an assignment, a
    // comment) rather than prose; `Cmd` has quotes and backslashes removed.
    p(
        "xss-103",
        Xss,
        Critical,
        Cmd,
        r"(^|[=(<,\s`])\s*(j\s*a\s*v\s*a|v\s*b|l\s*i\s*v\s*e)\s*s\s*c\s*r\s*i\s*p\s*t\s*:\s*([\w$.]+\s*[(`=\[]|[/'`{(!~+-]|[\w$]+\s*$)|data\s*:\s*(text/html|image/svg\+xml|application/(x-)?(javascript|ecmascript|xhtml))[^,]{0,40}[,;]",
    ),
    // Tags that load or run active content.
    p(
        "xss-104",
        Xss,
        Critical,
        Folded,
        r"<\s*(iframe|frame|frameset|object|embed|applet|meta\s[^>]*http-equiv|base\s[^>]*href|link\s[^>]*(rel|href)|isindex|xml\s|import\s|svg\s*[/\s][^>]*(on|href)|math\s*>|template|portal|set\s|animate\w*\s|handler|xss\b|v\s*:\s*\w+|:?\s*vml(frame|\w*\s)|noscript|\?\s*import|import\s*implementation|i?layer\s[^>]*src\s*=)",
    ),
    // Markup attributes that take script: `srcdoc`, `formaction`, `xlink:href=javascript`.
    p(
        "xss-105",
        Xss,
        Critical,
        Folded,
        r#"<[a-z][^>]*\b(srcdoc|formaction|xlink:href|href|src|action|background|dynsrc|lowsrc|data|poster|code)\s*=\s*['"]?\s*(javascript|vbscript|data:text|&#|%26#)|<[a-z][^>]*\bstyle\s*=[^>]*(expression\s*\(|url\s*\(\s*['"]?\s*javascript|-moz-binding|behavior\s*:)"#,
    ),
    // DOM sinks and sources that a stored or reflected payload reaches for; on the `sql`
    // variant, where `/* */` comments (`document/**/.cookie`) are already gone.
    p(
        "xss-106",
        Xss,
        Critical,
        Sql,
        r#"\bdocument\s*\.\s*(cookie|domain|write(ln)?\s*\(|location\s*=)|\bwindow\s*\.\s*(location|open)\s*[=(]|\.\s*(innerhtml|outerhtml)\s*=|\bstring\s*\.\s*fromcharcode\s*\(|\b(top|self|parent|window|globalthis|frames|document)\s*\)?\s*\[\s*['"`]|\beval\s*\(\s*(atob|unescape|string|decodeuri|location|name|this|window|\x22|'|`)|\bset(timeout|interval|immediate)\s*\(\s*(['`]|(atob|eval|unescape|decodeuri\w*|string\s*\.\s*fromcharcode|location|name|alert|prompt|confirm|top|self|parent|window|document)\b)|\bnew\s+function\s*\(|\bfunction\s*\(\s*['`\x22]|\.\s*constructor\s*\(\s*['`\x22]|\bimport\s*\(\s*['`]\s*(https?:|data:|//)"#,
    ),
    // Dialog calls used to prove execution: `alert(1)`, ``prompt`1` ``, `confirm(document..)`.
    p(
        "xss-107",
        Xss,
        Warning,
        Folded,
        r#"\b(alert|prompt|confirm)\s*(\(\s*(\d|['"`/]|document|window|this|self|top|origin|location|string)|`)"#,
    ),
    // A tag opened right after a closing quote or tag: the classic breakout `"><img`.
    p(
        "xss-108",
        Xss,
        Warning,
        Folded,
        r#"['"]\s*/?\s*>\s*<\s*[a-z]|<\s*/\s*(title|textarea|style|noscript|xmp|plaintext|iframe|noembed|select|template)\s*>\s*<"#,
    ),
    // CSS / legacy script vectors.
    p(
        "xss-109",
        Xss,
        Critical,
        Folded,
        r"<\s*style[^>]*>[^<]*(@import|expression\s*\(|javascript:|-moz-binding|behavior\s*:)|\bvbscript\s*:|\bmocha\s*:|\blivescript\s*:|-moz-binding\s*:\s*url\s*\(|\bbehavior\s*:\s*url\s*\(",
    ),
    // UTF-7 encoded angle brackets (`+ADw-script+AD4-`): `+` and `-` never both occur in
    // base64 text, so this does not fire on blobs.
    p("xss-111", Xss, Critical, Folded, r"\+ad[w4]-"),
    // JSFuck fragments and tagged-template calls that run code without parentheses.
    p(
        "xss-112",
        Xss,
        Critical,
        Folded,
        r"\(\s*!\s*\[\s*\]\s*\+?\s*\[\s*\]\s*\)|\+\s*!\s*!\s*\[\s*\]|(^|[=(\[\s])!\s*!\s*\[\s*\]|\[\s*\+?\s*!\s*\+?\s*\[\s*\]\s*\]|\.\s*(call|apply|bind)\s*`|`\s*\$\{\s*(alert|eval|prompt|confirm|navigation|location|document|window|top|self)\b",
    ),
    // A script scheme with nothing after it, as a whole value or attribute (what is left
    // once entity obfuscation is undone: `ja&Tab;vascript&colon;`), CSS `url(javascript`
    // anywhere, and a data URI whose payload is markup (`data:,<x>`).
    p(
        "xss-113",
        Xss,
        Critical,
        Folded,
        r#"(^|[=(<,'"`])\s*(j\s*a\s*v\s*a|v\s*b)\s*s\s*c\s*r\s*i\s*p\s*t\s*:[\s:\\]*(u0020)?\s*$|\burl\s*\(\s*['"]?\s*(javascript|vbscript)\b|\bdata\s*:[\w/+.;=\s-]{0,40},\s*<\s*[a-z!/]"#,
    ),
    // Round 5. An event-handler-like attribute of any name (`on` + letters: handlers
    // change with every browser release: `onbeforematch`, `onscrollsnapchange` ...) right
    // after a quote, slash or `;`, or at the start, given code: a call or a tagged template
    // (`"onanything=top.alert(1)`, `/onfoo=alert(1)`), a script scheme or an escape. Not
    // after a space, `,` or `(`: `const online = isOnline()` and `f(onset=start())` are
    // code; `obj.onload = init()` follows a dot.
    // Also any `on…=` attribute inside a tag (HTML has no other attribute named so), and a
    // known handler given a value after a space, `;` or `,` outside a tag (an unquoted
    // attribute broken out of: `x onmouseover=y`; round 8: with spaces around `=` only when
    // code or a quote follows).
    p(
        "xss-114",
        Xss,
        Critical,
        Folded,
        concat!(
            r#"(^|["'`/;])on[a-z]{3,40}\s*=\s*['"`]?\s*([\w$.]{1,60}\s*(\(|`|\[\s*['"`])|(javascript|vbscript)\s*:|&#|\\u00|\\x)"#,
            r#"|<[a-z][\w:-]*[^>]*[\s/"']on[a-z]{3,40}[^a-z0-9=>]{0,40}=|[\s;,]"#,
            handlers!(),
            // Glued to `=` (`x onmouseover=y`), or spaced but given code (`onload = f()`):
            // "the onload = handler fires once" is prose.
            r#"(=\s*[^\s=]|\s+=\s*(['"`]|[\w$.]{1,60}\s*[(`]))"#
        ),
    ),
    // A JavaScript string broken out of and followed by code: a closing quote (and
    // brackets), an operator or `;`, then a dialog or eval call (`'-alert(1)-'`,
    // `");alert(1)//`, `'+prompt(1)+'`) or an assignment to a DOM sink (`';document.location=`,
    // `"+top.location.href=`). Code shares this only when it really calls these.
    p(
        "xss-115",
        Xss,
        Critical,
        Folded,
        r#"['"`]\s*[)}\]]{0,3}\s*([-+*/%^|&,;]|\bin\b)\s*[(\[]?\s*(alert|prompt|confirm|eval|settimeout|setinterval)\s*[(`]|['"`]\s*[)}\]]{0,3}\s*[-+;,|&]\s*((document|window|top|self|parent)\s*\.\s*(location(\s*\.\s*(href|hash|search))?|cookie|domain|body\s*\.\s*innerhtml)|location\s*\.\s*(href|hash|search))\s*=[^=]"#,
    ),
    // A dialog called with what only an execution proof passes: a number, a DOM object,
    // a regex source or a template literal (`alert(1)`, `prompt(document.domain)`,
    // ``confirm`1` ``, `alert(/xss/.source)`), or a parenthesised dialog called
    // (`(alert)(1)`). A real UI message is a string, which stays
    // a warning under `xss-107`.
    p(
        "xss-116",
        Xss,
        Critical,
        Folded,
        r"\(\s*(alert|prompt|confirm|eval)\s*\)[(`]|\b(alert|prompt|confirm)\s*(\(\s*(\d+|(document|window|top|self|this)\s*\.\s*[\w.]+|origin|location(\s*\.\s*\w+)?|document|window|this|/[^/\n]{1,40}/\s*(\.\s*source)?|string\s*\.\s*fromcharcode\s*\([\d,\s]*\))\s*\)|`[^`]{0,40}`)",
    ),
    // Tags written with the high-bit angle brackets that a 7-bit (US-ASCII) decoder turns
    // into `<` and `>` (`%BCscript%BE` → `¼script¾`); invalid UTF-8 reaches the rules as
    // U+FFFD (matched as its UTF-8 bytes: the sets run without Unicode classes). Both brackets and a script-running tag name are needed.
    p(
        "xss-117",
        Xss,
        Critical,
        Folded,
        r"(\xEF\xBF\xBD|\xC2\xBC)\s*/?\s*(script|iframe|img|svg|body|object|embed|style|meta|link|base|input|form|frame|applet|marquee|video|audio|xss)\b[^<>\xBC\xBD\xBE]*(\xEF\xBF\xBD|\xC2\xBE)",
    ),
    // Round 7. The whole value is one call of a function XSS probes use to prove
    // execution or to decode their payload (`alert()`, `prompt(1)`, `atob(x)`,
    // `setInterval(code, 1)`), written as code: the name glued to its parenthesis and only
    // names or numbers as arguments. A form label `Confirm (optional)` spaces it; a snippet
    // quoted in a comment (`alert('Saved!')`) passes a string.
    p(
        "xss-118",
        Xss,
        Critical,
        Folded,
        r"^\s*\(?\s*(alert|prompt|confirm|eval|atob|btoa|settimeout|setinterval|fromcharcode|execscript)\([\w$.,\s]{0,60}\)\s*\)?\s*;?\s*$",
    ),
    // Round 7. A dialog or eval sink called indirectly — `.call(`, `.apply(`, `.bind(`, or
    // optional chaining `alert?.(`: the call forms filters looking for `alert(` miss. Prose
    // does not write `confirm.call(`.
    p(
        "xss-119",
        Xss,
        Critical,
        Folded,
        r"\b(alert|confirm|prompt|eval|print)\s*(\?\.\s*\(|\.\s*(call|apply|bind)\s*\()|\bdocument\s*\?\.\s*(cookie|domain|location)\b",
    ),
    // Round 8. A dialog or eval sink handed over as a value instead of called by name: a
    // callback (`[1].find(alert)`, `.then(confirm)`), assigned and called through the
    // alias (`a=alert,a(1)`), or eval of code glued from variables (`eval(a+b+c+d)`).
    p(
        "xss-122",
        Xss,
        Critical,
        Folded,
        r"\.\s*\w+\s*\(\s*([\w$']{1,20}\s*,\s*)?(alert|prompt|confirm|eval)\s*[(),`]|\$\s*\.\s*(getscript|globaleval)\s*\(|\beval\s*\(\s*[\w$.]{1,30}\.\s*(slice|substr|substring|split|replace|join|reverse)\s*\(|\b[\w$]+\s*=\s*(alert|prompt|confirm|eval)\s*[,;]\s*[\w$]+\s*[(`]|\beval\s*\(\s*[\w$]+(\s*\+\s*[\w$]+){2,}\s*\)",
    ),
    // Round 8. A tag followed by an event handler once quotes are gone (the `cmd` variant):
    // `'<'s't'y'l'e'/'o'n'l'o'a'd'=…` for applications that strip quotes.
    p(
        "xss-123",
        Xss,
        Critical,
        Cmd,
        concat!(r"<[a-z][\w:-]*[\s/]+", handlers!(), r"\s*="),
    ),
    // Round 8. A global object called through a computed name built from pieces: a string
    // joined with `+`, a regex `.source`, a quoted literal (`window['al'+'ert'](1)`,
    // `top[/alert/.source]()`, `self[x.charAt(0)+'lert'](1)`, `top[8680439..toString(30)](1)`). Filters that look for the
    // sink's name never see it whole.
    p(
        "xss-120",
        Xss,
        Critical,
        Sql,
        r#"\b(window|self|top|parent|frames|globalthis|opener|content)\s*\[[^\]\n]{0,200}?(['"`+]|/\s*\.\s*source|\.\s*tostring\s*\(\s*\d)[^\]\n]{0,200}\]\s*[(`]"#,
    ),
    // Round 9. A script scheme spelled with whitespace between its letters inside a URL
    // attribute (`href="j&Tab;avascript&colon;a&Tab;lert()"`): browsers drop tabs and
    // line breaks from URLs, so it runs. Prose has no `href=` before it.
    p(
        "xss-124",
        Xss,
        Critical,
        Folded,
        r#"\b(href|src|action|formaction|data|background|poster|xlink:href|to)\s*=\s*['"]?\s*(j\s*a\s*v\s*a|v\s*b)\s*s\s*c\s*r\s*i\s*p\s*t\s*:"#,
    ),
    // Round 9. A function's constructor reached through bracket access on a literal
    // (`[]['filter']['constructor']('alert(1)')()`, often with the names escaped): the
    // `Function` constructor without writing its name.
    p(
        "xss-125",
        Xss,
        Critical,
        Folded,
        r#"(\[\s*\]|\(\s*\)|\{\s*\}|['"`]\s*['"`]|\d)\s*\[\s*['"`]\w+['"`]\s*\]\s*\[\s*['"`]constructor['"`]\s*\]"#,
    ),
];

const LIBINJECTION_XSS: RuleInfo = RuleInfo {
    id: "xss-001",
    category: Xss,
    severity: Critical,
};

/// libinjection flagged a value that opens no tag (an attribute context such as
/// `style=color:red`, or an `<?xml` declaration): it produces false positives there, so it
/// blocks only together with another rule.
const LIBINJECTION_XSS_ATTR: RuleInfo = RuleInfo {
    id: "xss-002",
    category: Xss,
    severity: Error,
};

/// libinjection's XSS check: an HTML5 tokenizer run in the contexts a value can land in
/// (data, attribute values), flagging tags, attributes and URLs known to execute script.
#[derive(Debug, Clone, Copy)]
pub struct LibinjectionXss;

impl Detector for LibinjectionXss {
    fn rules(&self) -> &'static [RuleInfo] {
        &[LIBINJECTION_XSS, LIBINJECTION_XSS_ATTR]
    }

    fn detect(&self, subject: &Subject<'_>, hits: &mut Vec<Hit>) {
        let v = subject.norm.decoded.as_bytes();
        // Without one of these bytes no HTML context can be entered or left.
        if !v
            .iter()
            .any(|b| matches!(b, b'<' | b'>' | b'"' | b'\'' | b'`' | b'=' | b':'))
        {
            return;
        }
        // An XML document in a field starts with its declaration, which libinjection reads
        // as markup; inspect what follows it.
        let v = match v.strip_prefix(b"<?xml") {
            Some(rest) => rest
                .windows(2)
                .position(|w| w == b"?>")
                .and_then(|i| rest.get(i.saturating_add(2)..))
                .unwrap_or(rest),
            None => v,
        };
        if libinjectionrs::detect_xss(v).is_injection() {
            let opens_tag = v.windows(2).any(|w| {
                w.first() == Some(&b'<')
                    && w.get(1)
                        .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'/' | b'!'))
            });
            hits.push(Hit {
                rule: if opens_tag {
                    LIBINJECTION_XSS
                } else {
                    LIBINJECTION_XSS_ATTR
                },
                variant: crate::normalize::Variant::Decoded,
                span: (0, v.len()),
            });
        }
    }
}
