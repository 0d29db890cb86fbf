//! SQL injection: libinjection's tokenizer/fingerprint check, plus patterns for the common
//! forms it does not fingerprint (long payloads, stacked queries, blind-timing functions,
//! catalogue probes).

use super::{Category::Sqli, Detector, Hit, PatternDef, RuleInfo, Severity::*, Subject, p};
use crate::normalize::Variant::{Folded, Lower, Sql};

/// SQL function names (MySQL / standard, the CRS 942410 family) for `sqli-131`, which
/// only takes them with an open parenthesis ending the value.
macro_rules! sql_functions {
    () => {
        "abs|acos|adddate|addtime|aes_decrypt|aes_encrypt|ascii|asin|atan2?|avg|benchmark|bin|bit_and|bit_count|bit_length|bit_or|bit_xor|cast|ceil(ing)?|char|character_length|char_length|charset|chr|coalesce|coercibility|collation|compress|concat(_ws)?|connection_id|conv|convert(_tz)?|cos|cot|count|crc32|curdate|current_date|current_time(stamp)?|current_user|curtime|database|date|date_add|datediff|date_format|date_sub|day|dayname|dayof(month|week|year)|decode|default|degrees|des_decrypt|des_encrypt|elt|encode|encrypt|exp|export_set|extract|extractvalue|field|find_in_set|floor|format|found_rows|from_days|from_unixtime|greatest|group_concat|hex|hour|i?if|ifnull|in|inet_aton|inet_ntoa|insert|instr|isnull|last_day|last_insert_id|lcase|least|left|length|ln|load_file|local|localtime(stamp)?|locate|log(10|2)?|lower|lpad|ltrim|makedate|make_set|maketime|max|md5|microsecond|mid|min|minute|mod|month|monthname|name_const|now|nullif|oct|octet_length|old_password|ord|period_add|period_diff|pi|position|pow(er)?|quarter|quote|radians|rand|release_lock|repeat|replace|reverse|right|round|row_count|rpad|rtrim|schema|second|sec_to_time|session_user|sha[12]?|sign|sin|sleep|soundex|space|sqrt|std(dev)?|strcmp|str_to_date|subdate|substr(ing)?|substring_index|subtime|sum|sysdate|system_user|tan|time|timediff|time_format|timestamp(add|diff)?|time_to_sec|to_days|trim|truncate|ucase|uncompress|unhex|unix_timestamp|updatexml|upper|user|utc_date|utc_time(stamp)?|uuid|values|variance|version|week|weekday|weekofyear|year|yearweek"
    };
}

/// Pattern rules, run on the comment-stripped `sql` variant unless noted.
pub const PATTERNS: &[PatternDef] = &[
    p(
        "sqli-101",
        Sqli,
        Critical,
        Sql,
        r"\bunion(\s+(all|distinct|distinctrow))?\s*\(*\s*select\b",
    ),
    // A quote or paren closes the literal, then a boolean joins a comparison. The left
    // operand is not empty: "(e.g. ...) and is launched with" is prose. A bare `<` / `>`
    // needs a literal, a variable, a subquery or the end of the value after it: "Map<String,Integer>(16) and
    // Vec<u8>" names generic types.
    p(
        "sqli-102",
        Sqli,
        Critical,
        Sql,
        r#"['"`)]\s*(or|and|xor|\|\||&&)\s*\(*\s*(['"`][\w@.]*['"`]?|[\w@.]+)\s*(=|<>|!=|[<>]=|[<>]\s*(['"`\d(@-]|$)|\blike\b|\bis\b|\bbetween\b|\bin\s*\(|\brlike\b|\bregexp\b)"#,
    ),
    // Numeric tautologies and contradictions: `1 or 1=1`, `and 1>0`; round 5: `&&` / `||`,
    // `<` / `>` glued to their operands (prose spaces them: "10 > 5 and 5 < 10"),
    // arithmetic, hex and binary operands, `between` (`1 && 2>1`, `or 2+2-2-1=1`,
    // `or 0x50=0x50`, `or 1 between 0 and 2`), a negated comparison (`and not 1=2`), a truth
    // test (`and 1 is true`).
    p(
        "sqli-103",
        Sqli,
        Critical,
        Sql,
        r"(\b(or|and|xor|having|where)\s+|&&\s*|\|\|\s*)(not\s+|!\s*)?\(*\s*(\d+(\s*[-+*/]\s*\d+|\s\d+)*|0x[0-9a-f]+|0b[01]+|true|false|null)(\s*\)*\s*(==?|<>|!=|\blike\b)\s*|\)*(<=?|>=?))\(*\s*(\d+(\s*[-+*/]\s*\d+|\s\d+)*|0x[0-9a-f]+|0b[01]+|true|false|null)\b|\b(or|and|xor|having|where)\s+\(*\s*(\d+(\s*[-+*/]\s*\d+|\s\d+)*|0x[0-9a-f]+|0b[01]+|true|false|null)\s+(not\s+)?between\s+(\d+(\s*[-+*/]\s*\d+|\s\d+)*|0x[0-9a-f]+|0b[01]+|true|false|null)\s+and\s+(\d+(\s*[-+*/]\s*\d+|\s\d+)*|0x[0-9a-f]+|0b[01]+|true|false|null)\b|\b(or|and|xor|having|where)\s+\(*\s*(\d+(\s*[-+*/]\s*\d+|\s\d+)*|0x[0-9a-f]+|0b[01]+|true|false|null)\s+is\s+(not\s+)?(true|false|null|unknown)\b",
    ),
    // Stacked statements after a `;`.
    p(
        "sqli-104",
        Sqli,
        Critical,
        Sql,
        r"['`)\d]?\s*;\s*(drop\s+(table|database|schema|user)|truncate\s+table|alter\s+(table|user|database)|insert\s+into|delete\s+from|update\s+[\w.`\[\]]+\s+set\b|exec(ute)?\s+(xp_|sp_|master\.)|shutdown\b|declare\s+@|create\s+(table|user|database|function|procedure)|select\s+[\w*@(),\s]+\bfrom\b|select\s+(pg_sleep|sleep|benchmark|@@|version|user|load_file))",
    ),
    // Blind timing and out-of-band functions.
    p(
        "sqli-105",
        Sqli,
        Critical,
        Sql,
        r"\b(sleep|benchmark|pg_sleep|dbms_lock\.sleep|randomblob)\s*\(\s*[-\d\w'(]|\bwaitfor\s+(delay|time)\s+['\d]|\b(load_file|utl_http\.request|utl_inaddr\.get_host_address|dbms_pipe\.receive_message|xp_cmdshell|xp_dirtree|sys_exec|sys_eval)\b|\binto\s+(out|dump)file\b",
    ),
    // Catalogue and fingerprinting probes (round 5: `@@version` also at the start of a
    // value; the `\b` before `@@` needed a word character there).
    p(
        "sqli-106",
        Sqli,
        Critical,
        Sql,
        r"\b(information_schema\b|mysql\.(user|db)\b|sys\.(objects|tables|columns|databases)\b|sysobjects\b|syscolumns\b|pg_catalog\.|pg_shadow\b|sqlite_master\b|all_tables\b|user_tables\b)|@@(version|datadir|hostname)\b",
    ),
    // Error-based extraction functions with SQL arguments (round 5: every SQL cast type,
    // `cast(0x41 as nvarchar)`).
    p(
        "sqli-107",
        Sqli,
        Critical,
        Sql,
        r"\b(extractvalue|updatexml|exp\s*\(\s*~|geometrycollection|multipoint|polygon|linestring|floor\s*\(\s*rand|name_const|json_keys|gtid_subset)\s*\(|\b(convert|cast)\s*\(.{0,60}\b(as\s+(int|integer|bigint|smallint|n?char|n?varchar|numeric|decimal|signed|unsigned|binary|varbinary|bit|float|real)|using)\b",
    ),
    // A word, a quote, then a comment or statement end: the login bypass `admin'--`.
    p(
        "sqli-108",
        Sqli,
        Critical,
        Lower,
        r#"^[\w@.\-]*['"`]\s*\)*\s*((--|#|/\*)[^\n]{0,30}$|;)"#,
    ),
    // SQL functions often used in injected expressions.
    p(
        "sqli-109",
        Sqli,
        Warning,
        Sql,
        r"\b(concat(_ws)?|group_concat|char|chr|ascii|substr(ing)?|mid|ord|hex|unhex|md5|version|database|user|current_user|schema|system_user|session_user|if|ifnull|case\s+when|count|length|len)\s*\(.{0,80}(\bselect\b|\b0x[0-9a-f]+|\bchar\s*\(|@@)",
    ),
    // `order by` / `group by` column probing and `select ... from` right after a literal.
    p(
        "sqli-110",
        Sqli,
        Warning,
        Sql,
        r#"['"`)\d]\s*(order|group)\s+by\s+\d+|['"`)]\s*(select|insert|delete|update)\b.{1,80}\b(from|into|set|where)\b"#,
    ),
    // Round 6. sqlmap / manual column-count probing as a whole numeric value: `1 order by
    // 10`, `1) group by 3--` (after comment stripping nothing else follows).
    p(
        "sqli-139",
        Sqli,
        Critical,
        Sql,
        r"^\s*-?\d+\s*\)*\s*(order|group)\s+by\s+\d+(\s*,\s*\d+)*\s*;?\s*$",
    ),
    // Round 7. Error-based extraction: the double query `count(*),concat(...)` with
    // `floor(rand(0)*2)` that makes MySQL print a duplicate-key error carrying the data, and
    // a subquery opened inside another (`(select (select ...`, `(select x from (select`) —
    // hand-written SQL in a comment field nests subqueries after `in`, `exists` or `from`,
    // not right after the opening of another subquery.
    p(
        "sqli-140",
        Sqli,
        Critical,
        Sql,
        r"\bcount\s*\(\s*\*\s*\)\s*,\s*concat(_ws)?\s*\(|\bfloor\s*\(\s*rand\s*\(\s*0?\s*\)\s*\*\s*2\s*\)|\(\s*select\s*\(\s*select\b|\(\s*select\s+[\w@,\s*()]{0,60}\bconcat(_ws)?\s*\(",
    ),
    // Round 8 (from sqlmap's own payload templates). A subquery opened as a value that
    // counts rows or branches (`(SELECT COUNT(*) FROM …)`, `(SELECT (CASE WHEN …`), a CASE
    // or IF that tests a constant comparison (`CASE WHEN 4940=4940 THEN`, `CASE 7 WHEN 7`,
    // `;IF(1=1) SELECT`), and heavy queries used as delays (`GENERATE_SERIES(1,5000000)`,
    // `REPEAT(…,500000000)`, `RANDOMBLOB(500000000)`, a cross join of three catalog tables
    // aliased `T1, T2, T3`). Hand-written SQL compares columns, not two constants.
    p(
        "sqli-141",
        Sqli,
        Critical,
        Sql,
        concat!(
            r"\(\s*select\s+(count\s*\(\s*[*\w]|\(?\s*case\s+\w)",
            r"|\bcase\s+when\s+\(?\s*(\d+|'[^']*')\s*(=|<>|!=|<=?|>=?)\s*(\d+|'[^']*')\s*\)?\s*then\b|\bcase\s+\d+\s+when\s+\d+\s+then\b",
            r"|(^|;)\s*if\s*\(\s*\d+\s*(=|<>|!=|<|>)\s*\d+\s*\)\s*(select|waitfor|begin|exec)\b",
            r"|\bgenerate_series\s*\(\s*\d+\s*,\s*\d{5,}|\brepeat\s*\(.{0,80},\s*\d{6,}\s*\)|\brandomblob\s*\(\s*\d{6,}",
            r"|\bfrom\s+[\w$.:]+\s+(as\s+)?t1\s*,\s*[\w$.:]+\s+(as\s+)?t2\s*,"
        ),
    ),
    // Round 8. A closed string followed by account or privilege statements (`' grant
    // connect to x`, `'create user x identified by`), and the empty-string tautology of
    // login bypass lists (`' or '' '`).
    p(
        "sqli-142",
        Sqli,
        Critical,
        Sql,
        r#"['";]\s*(create\s+(user|login|role)\s+\w+|grant\s+[\w, ]{1,40}\s+(to|on)\s+\w+|alter\s+(user|login)\s+\w+)|['"]\s*(or|\|\|)\s*(''|"")"#,
    ),
    // `or true` closed by a comment (`or true--`); on the folded text, since the `sql`
    // variant has the comment removed.
    p(
        "sqli-143",
        Sqli,
        Critical,
        Folded,
        r"\bor\s+true\s*(--|#|/\*)",
    ),
    // Round 8 (PayloadsAllTheThings lists). Column-count probing sent on its own, closed
    // by a comment and nothing after it (` ORDER BY 3-- `, `') GROUP BY 2#`): the comment
    // says it was written to cut off a query. Without one, "Order by 12" can be a note, so
    // it is left to `sqli-139`.
    p(
        "sqli-144",
        Sqli,
        Critical,
        Folded,
        r#"^\s*['"`)]*\s*(order|group)\s+by\s+\d+(\s*,\s*\d+)*\s*(--\s*[-+]?|#|/\*)\s*$"#,
    ),
    // Round 8. PostgreSQL reconnaissance: server settings, the current database, catalog
    // tables of users and passwords, file and sleep functions. Only a database client
    // names these.
    p(
        "sqli-145",
        Sqli,
        Critical,
        Sql,
        r"\bcurrent_setting\s*\(\s*'|\bpg_(read_file|read_binary_file|ls_dir|stat_file|sleep|shadow|authid|group|hba_file_rules)\b|\bcurrent_database\s*\(\s*\)|\binet_server_addr\s*\(",
    ),
    // Hex / char() literals building strings: `0x61646d696e`, `char(97,100)`.
    p(
        "sqli-111",
        Sqli,
        Notice,
        Sql,
        r"\b0x[0-9a-f]{8,}\b|\bchar\s*\(\s*\d+\s*(,\s*\d+\s*){2,}\)",
    ),
    // A literal closed, an SQL operator or clause, and the rest of the query commented out:
    // `x' and email ilike email--`, `user' collate nocase--`. Runs on `lower`, which still
    // has the comment. `--` glued to a letter is a command-line option (`'--quiet' and
    // '--silent'`) and `#` glued to a digit an issue number (`"no" (see #825394)`): neither
    // ends the query.
    p(
        "sqli-114",
        Sqli,
        Critical,
        crate::normalize::Variant::Lower,
        r#"['"`]\s*\)*\s*((or|and|xor|not|collate|union|having|group\s+by|order\s+by|limit|procedure|into|like|ilike|rlike|regexp|between|is|in|notnull|isnull)\b|\|\||&&|;).{0,120}(--([^a-z]|$)|#(\D|$)|/\*)[^\n]{0,20}$"#,
    ),
    // A literal closed, a boolean operator, another literal left open for the query's own
    // quote (or a number), then the end of the value, a comment, a statement end or a
    // comparison: `a'or'a`, `\'or'1`, `' or true; x`, `''or 1`. Prose has a word after
    // the operator ("parents' or yours") or closes its quotes ("'X' or 'Y'").
    p(
        "sqli-115",
        Sqli,
        Critical,
        Sql,
        r#"['"`]\s*(or|xor|and|\|\||&&)\s*(['"`]\w{0,20}|\d+|true|false|null|not\s+\w+)\s*($|--|#|;|=|<|>|!|\))"#,
    ),
    // PostgreSQL casts used for error-based extraction (`password::int`, `'x'::jsonb`).
    p(
        "sqli-116",
        Sqli,
        Critical,
        Sql,
        r#"[\w)'"]\s*::\s*(int[248]?|integer|bigint|smallint|text|varchar|char|jsonb?|bool(ean)?|numeric|regclass|oid|bytea|xml|inet|float[48]?)\b"#,
    ),
    // SQL-only functions, procedures and catalogue objects: names that do not occur in
    // prose or in other languages (`group_concat(`, `xp_regread`, `utl_http`, `pg_sleep`).
    p(
        "sqli-117",
        Sqli,
        Critical,
        Sql,
        r"\b(group_concat|concat_ws|find_in_set|db_name|current_user|session_user|system_user|schema_name|json_build_object|jsonb_\w+|json_extract|lo_get|lo_import|unistr|sqlite_version|load_extension|make_set|export_set|updatexml|extractvalue|sys_context|pg_read_file|pg_ls_dir|starts_with|substring_index|char_length|octet_length|to_base64|uncompress|inet_aton|is_srvrolemember|has_dbaccess|objectproperty|serverproperty)\s*\(|\b(xp_\w+|sp_(password|executesql|oacreate|oamethod|addextendedproc|makewebtask|configure|who\d?|helpdb)|utl_(http|inaddr|file|smtp|tcp)|dbms_\w+|msdasql|sqloledb|pg_catalog|pg_sleep|sysdatabases|sysusers|mysql\.user)\b|\bselect\s+(pg_sleep|sleep|benchmark|version|user|database|current_user|@@)\b",
    ),
    // MySQL executable comments (`/*!50000select`) and scientific-notation tricks
    // (`1.e(ascii`, `1.e.tables`).
    p(
        "sqli-118",
        Sqli,
        Critical,
        Lower,
        r"/\*!\d{0,6}\s*[a-z(]|\b\d+\.e\s*\(\s*[a-z]|\b\d+\.e\.[a-z_]+",
    ),
    // Literal compared with a literal by an SQL-only operator: `42 like 42`,
    // `'1' not regexp '2'`, `1 is not 2`, `a' glob password;`. Round 5: after `is not` only
    // a number, a quote or a truth value ("size 5 is not available" passes).
    p(
        "sqli-119",
        Sqli,
        Critical,
        Sql,
        r#"(\b\d+|['"`])\s*(not\s+)?(like|rlike|regexp|glob|sounds\s+like)\s+(\d+|['"`]|\w+\s*(;|--|#|$))|(\b\d+|['"`])\s*(is\s+not|is\s+distinct\s+from)\s+(\d+|['"`]|(null|true|false|unknown)\s*(;|--|#|$))|\b\d+\s*(<=>|!=|<>)\s*\d+\b"#,
    ),
    // A whole SQL statement ended and followed by a comment, the injection tail:
    // `DELETE FROM users;--`. (A statement pasted in a comment, `;` or not, passes.)
    p(
        "sqli-120",
        Sqli,
        Critical,
        Lower,
        r"(^|[;(])\s*(select\s+[^;]{1,80}\s+from\s+\S+|insert\s+into\s+\S+|delete\s+from\s+\S+|update\s+\S+\s+set\s+\S+|drop\s+(table|database|view)\s+\S+|truncate\s+(table\s+)?\S+|alter\s+table\s+\S+|execute\s+immediate|declare\s+@\w+|exec\s*\(\s*@)[^\n]{0,120};\s*(--|#|/\*)",
    ),
    // Keywords hidden by comments: `DROP/*x*/t`, `SELECT/**/a/**/FROM/**/b`.
    p(
        "sqli-121",
        Sqli,
        Critical,
        Lower,
        r"\b(select|union|drop|insert|delete|update|from|where|and|or|exec|declare)\s*/\*[^\n]{0,40}\*/\s*(\w|@|\()",
    ),
    // A column alias then `FROM` right after a closed literal or call: `) AS t FROM`,
    // `` ` AS `x` from ``, with nothing or a table and a clause after it (prose goes on:
    // "(2 boxes) as agreed from Lisbon"); MySQL back-quoted qualified names.
    p(
        "sqli-122",
        Sqli,
        Critical,
        Sql,
        r#"[)'"`\]]\s*as\s+[`'"\[]?\w+[`'"\]]?\s+from(\s*$|\s+[\w.`"\[\]]+\s*(;|--|#|\b(where|limit|join|group\s+by|order\s+by|union)\b))|\bfrom\s+`[\w$]+`\s*\.\s*`[\w$]+`"#,
    ),
    // JSON operators applied to a quoted JSON literal (PostgreSQL / MySQL):
    // `'{"a":1}' -> '$.a'`, `'[1,2]' ? '1'`, `'{..}' ?| array[..]`.
    p(
        "sqli-123",
        Sqli,
        Critical,
        Sql,
        r#"'\s*[\[{][^']{0,200}[\]}]\s*'\s*(->>?|#>>?|\?[|&]?|@>|<@|<|>)\s*('|array\s*\[)"#,
    ),
    // A literal closed, a symbol operator or `mod`/`div` and a column, the rest commented
    // out (`x'|email--`, `x' mod id--`); a boolean, a number, a comparison and an open
    // parenthesis or literal (`and 7639=(`, `or 1='`); a boolean, a column and a
    // comparison left open at the end of the value for the query's own quote or operand
    // (`AND name = '`, `||(c!=`, `&& uid!=(`, `and x = 0)`).
    p(
        "sqli-124",
        Sqli,
        Critical,
        Lower,
        r#"['"`]\s*\)*\s*([-|^&<>=/%+*]|\bmod\b|\bdiv\b)\s*[a-z_]\w*\s*(--[\s-]*|#|/\*.{0,10})$|\b(and|or|xor)\s+\d+\s*(=|!=|<>|<=>)\s*(\(|['"`]\s*$)|(\band|\bor|&&|\|\|)\s*\(?\s*[\w@.]{1,30}\s*(={1,3}|!={1,2}|<>|<=|>=)\s*([\\'"`(]{1,3}|!?\d+\s*\))?\s*$"#,
    ),
    // MSSQL / PostgreSQL / Oracle specifics.
    p(
        "sqli-112",
        Sqli,
        Critical,
        Sql,
        r"\bexec(ute)?\s*\(?\s*(master\.\.|xp_|sp_(executesql|oacreate|configure|makewebtask|password))|\bopenrowset\s*\(|\bopendatasource\s*\(|\bdbms_\w+\.\w+\s*\(|\bcopy\s+(\w+|\(.{1,120}\))\s*(from|to)\s+program\b|\bpg_read_file\s*\(|\blo_import\s*\(",
    ),
    // Round 4. Dynamic SQL and procedure execution: `EXECUTE IMMEDIATE`, `PROCEDURE
    // ANALYSE(`, `DECLARE @x`, `EXEC(@q)`, `exec master.`: statement shapes with no prose
    // reading.
    p(
        "sqli-125",
        Sqli,
        Critical,
        Sql,
        r"\bexecute\s+immediate\b|\bprocedure\s+analyse\s*\(|\bdeclare\s+@\w+\s+(as\s+)?(n?varchar|n?char|int|bigint|table|sysname|cursor|bit|datetime|float|decimal|varbinary)\b|\bexec(ute)?\s*\(\s*@|\bexec(ute)?\s+master\s*\.",
    ),
    // Stacked statements glued to the `;` with their object (`;drop table`, `;update users
    // set`, `;replace/**/t(id)`), a bare `;drop` ending the value, `;SET @OLD_MODE`: prose
    // puts a space after a semicolon, and a typo (`;update the docs`) has no statement shape.
    p(
        "sqli-126",
        Sqli,
        Critical,
        Lower,
        r";(drop|truncate|alter)\s+(table|database|schema|user|view|index|procedure|function|trigger)\b|;(update|delete|insert|replace)(\s|/\*[^*]*\*/)+\w*[\w.`\[\]]*(\s|/\*[^*]*\*/)*(set|from|into|values|\()|;(drop|truncate|shutdown)\s*($|--|#|/\*|\[)|;\s*set\s+@@?[a-z_]",
    ),
    // A value that opens by closing a string and continuing with a boolean operator and an
    // operand followed by an operator (`' or abc!`, `" and x-`), or with `xor` and a
    // comparison (`xor 2 <`): a fragment meant to extend a quoted predicate.
    p(
        "sqli-127",
        Sqli,
        Critical,
        Sql,
        r#"^\s*['"`]\s*(or|and|xor|\|\||&&)\s+['"`]?[\w.@]+['"`]?\s*[-<>=!^|&+*/%]|^\s*['"`]?\s*xor\s+['"`]?[\w.]+['"`]?\s*[-<>=!]"#,
    ),
    // SQL operators applied to a closed sub-expression: `) like (`, `)rlike(`,
    // `) when 1 then`, and MySQL's `IF(cond, a, b)` / `IIF(` with a comparison.
    p(
        "sqli-128",
        Sqli,
        Critical,
        Sql,
        r#"\)\s*(r?like|regexp|sounds\s+like)\s*\(|\)\s*when\s+['"\w.-]+\s+then\b|\bi?if\s*\(\s*[^(),;{}]{1,40}(=|<|>)[^(),;{}]{0,40},[^,;{}]{1,60},"#,
    ),
    // A value that opens by closing a string and starting a statement keyword that no
    // quoted phrase starts with: `'union/`, `"UNION ALL`, `'alter table`, `' having 1`.
    p(
        "sqli-129",
        Sqli,
        Critical,
        Sql,
        r#"^\s*['"`]\s*(union|alter|having|truncate|declare)(\s*(/|\(|$)|\s+(all|select|distinct|table|database|user|\d))"#,
    ),
    // A closed string, a boolean and a function call that ends the statement:
    // `x' or json_valid(id);`, `' and glob(id,id)--` (error/boolean probes through any
    // function, not just the known ones); round 5: the boolean may open a parenthesis
    // (`\' and( likelihood(id,.0));`).
    p(
        "sqli-130",
        Sqli,
        Critical,
        Lower,
        r#"['"`]\s*(or|and|xor|\|\||&&)(\s+|\s*\(\s*)[a-z_][\w.]*\s*\([^()]{0,60}\)\s*\)?\s*(;|--|#|/\*)"#,
    ),
    // Round 5. A value that is only an SQL function name and an open parenthesis, maybe
    // with operator debris between them (`abs(`, `FLOOR (`, `length||(`, `date]=(`), the
    // same after `select`, a boolean or a comparison (`select(user(`, `1 and ascii(`,
    // `id=substr(`), or `IF(` with a comparison left open (`if(2=`):
    // a call left open for the rest of the query. A whole value ending in an unclosed
    // `name(` is neither prose nor code (code closes its calls; `:(`, `;(`, `-(` smileys
    // are kept out).
    p(
        "sqli-131",
        Sqli,
        Critical,
        Sql,
        concat!(
            r"(^\s*[^\w\s:;-]{0,3}\s*|(\bselect\b[^;]{0,60}|\b(and|or|xor|where|having)\s+|(&&|\|\||[=<>])\s*)\b)(",
            sql_functions!(),
            r")[^\w:;-]{0,8}\([^\w)]{0,6}$|^\s*i?if\s*\(\s*[\w'.@]{1,30}\s*(=|<|>|!=|<>)\s*$"
        ),
    ),
    // SQL fragments that make a whole value: a membership test on numbers or a subquery
    // (`in (0,1)`, `IN (815914, 815913)`, `in ( select`), a null test (`IS NULL`, `LIKE
    // NULL`), a boolean then a literal or number and a comparison (`or 'a' <`, `and 1=`),
    // a boolean and one comparison of two words as the whole value (`or a = a`).
    // Prose goes on after such words ("in (2 weeks)", "or 2-3 days", "and 'Friends'
    // too"); a bare `or 1` stays allowed.
    p(
        "sqli-132",
        Sqli,
        Critical,
        Sql,
        r#"^\s*(not\s+)?in\s*\(\s*(select\b|-?\d+(\.\d+)?(\s*,\s*-?\d+(\.\d+)?)*\s*\)?\s*$)|^\s*(is\s+(not\s+)?null|(not\s+)?(like|rlike|regexp)\s+null)\s*$|^\s*(or|and|xor|\|\||&&)\s*(\d+|'[^']*'|"[^"]*")\s*[<>=!;]|^\s*(or|and|xor)\s+\w+\s*(=|<>|!=)\s*\w+\s*$"#,
    ),
    // A value that is only a quote (maybe escaped), a statement keyword and one token, the
    // quote never closed: `'alter a`, `" UNION A`, `'select H`. A quoted phrase that starts
    // with the same word closes its quote (`"Union Station"`, `'Select all' button`) or
    // goes on with more words (`"Select Comfort mattress`).
    p(
        "sqli-133",
        Sqli,
        Critical,
        Sql,
        r#"^\s*\\?['"`]\s*(union|alter|select|having|truncate|declare)\s+[\w@*(][^'"`\s]{0,30}\s*$"#,
    ),
    // Clause shapes no prose has: `CASE WHEN cond THEN x` opening a value or an expression,
    // the condition one token or a comparison, the result one token then `ELSE` / `END` /
    // `)` / the end ("Case when needed then call me" goes on),
    // `GROUP BY col HAVING count(` / `HAVING col =` right after a closed literal (`'
    // group by id having 1=1`; a whole statement quoted in a report passes), `CREATE FUNCTION f(..) RETURNS`, a
    // literal compared with a literal (`'x'!='y`; not one opening with `$`, a shell or PHP
    // variable as in `[ "$a" != "b" ]`, and `==` only between single quotes, since
    // double-quoted `==` is shell and JavaScript), a subquery opened after `=` / `in` or
    // left open at the end (`=(select`, `in (select min(x) from`, `( SELECT`; "price =
    // (select a plan)" has neither `from` nor a constant or call), a `LIKE` left open for
    // the query's
    // quote (`x LIKE '`), MySQL's charset switch (`alter table t convert to character set`),
    // a literal given a collation then compared (`'a' COLLATE utf8_bin = 'a`). SQL quoted in a report (`SELECT COUNT(*) FROM t -- ...`) has
    // none of these.
    p(
        "sqli-134",
        Sqli,
        Critical,
        Sql,
        r#"(^|[(,='"]|\bselect|\bthen|\belse)\s*case\s+when\s+(\S+|.{1,60}?(=|<|>|\bis\b|\blike\b|\bin\b).{0,30}?)\s+then\s+\S+\s*(else\b|end\b|$|\))|['"`)]\s*group\s+by\s+[\w`"\[\].,\s]{1,80}?\bhaving\s+([\w`"]+\s*(=|<|>|!=)|(count|sum|avg|min|max)\s*\()|\bcreate\s+(or\s+replace\s+)?(function|procedure)\s+[\w.`"]+\s*\(.{0,80}\)\s*returns\b|'([^'\s$][^'\s]{0,29})?'\s*(!=|<>|<=>|==)\s*'|"([^"\s$][^"\s]{0,29})?"\s*(!=|<>|<=>)\s*"|(=|\bin)\s*\(\s*select(\s*$|\s+[^)]{0,80}\bfrom\b|\s*(\d|@@|\*|null\b|\(|[a-z_]+\s*\())|\(\s*select\s*\*?\s*$|\b(like|ilike|rlike|regexp)\s+['"`]\s*$|\balter\s+table\s+[\w.`"]+\s+convert\s+to\s+(character\s+set|charset)\b|['"`]\s*collate\s+[\w"`]+\s*(=|<>|!=|<|>|\blike\b)"#,
    ),
    // A statement on any object ended and commented out, nothing after the comment
    // marker (`DROP sampletable;--`): the `sqli-120` shape for a bare `drop` / `truncate`
    // without `table`; likewise a whole value that is a boolean and a number commented out
    // (`OR 1#`, `and 2--`). Prose that writes `; --` goes on with words.
    p(
        "sqli-135",
        Sqli,
        Critical,
        Lower,
        r#"((^|[;'"`)])\s*(drop|truncate)\s+[\w.`"\[\]]+\s*;|^\s*(or|and|xor|\|\||&&)\s*\d+)\s*(--|#|/\*)[\s*/-]*$"#,
    ),
    // SQL information functions called with no argument where only SQL puts them: as the
    // whole value (`version()`, `user()`), as the argument of an SQL function
    // (`concat(0x3a,user())`, `ascii(database())`), compared (`database()='x'`), or called
    // inside any function right after a boolean (`and st_x(version())`); `concat(` with a
    // hex literal first; `select*from` written without spaces; `1 xor 1`; MySQL user
    // variable assignment (`@a:=(select`, `@.:=right(`). Method calls
    // (`auth.user()`, `$db->version()`) and JS comparisons (`user() == x`) pass.
    p(
        "sqli-136",
        Sqli,
        Critical,
        Sql,
        r#"^\s*(version|user|database|schema|current_user|system_user|session_user)\s*\(\s*\)\s*$|\b(concat(_ws)?|group_concat|ascii|ord|hex|bin|md5|length|char_length|substr(ing)?|mid|cast|convert|elt|make_set|extractvalue|updatexml|json_keys|ifnull|st_\w+)\s*\([^()]{0,40}[(,]\s*(version|user|database|schema|current_user|system_user|session_user)\s*\(\s*\)|(^|[^\w.:>$])\s*(version|user|database|schema|current_user|system_user|session_user)\s*\(\s*\)\s*(=|<>|\blike\b)\s*['"\d]|\b(and|or|xor)\s+[a-z_]\w*\s*\(\s*(version|user|database|schema|current_user|system_user|session_user|@@\w+)\s*\(?\s*\)?\s*[),]|\b(concat(_ws)?|group_concat)\s*\(\s*0x[0-9a-f]+\s*,|\bselect(\*\s*|\s*\*)from\s+[\w`"\[]|\b\d+\s+xor\s+\d+\b|@[\w.$]{0,30}\s*:=\s*[\w(@'"]"#,
    ),
    // A value that is only a quoted SQL operator or nothing but an operator between quotes
    // (`'='`, `'LIKE'`, `'-'`, `"&"`): the boundary probes of SQL scanners. A warning, so it
    // blocks only with another SQL finding (libinjection's weak fingerprint fires on them).
    p(
        "sqli-137",
        Sqli,
        Warning,
        Lower,
        r#"^\s*['"`]\s*([-=&^*|+/%<>]|!=|<>|like|rlike|regexp|or|and|xor|div|mod)\s*['"`]\s*$"#,
    ),
    // A whole value that is a literal closed, an operator and a literal opened
    // (`x'='x`, `1'-'`, `admin'+'`, `1'^'1`, `` `a`=`a` ``, `'-0-'`): the concatenation /
    // arithmetic / tautology probes of SQL scanners; no word of prose is glued to a quote on
    // both sides of an operator. Also a
    // glued `;select` of a constant (`1;select 1`, `;select null,`) and a subquery
    // concatenated with `||` (`$$ || (select 1) || $$`).
    p(
        "sqli-138",
        Sqli,
        Critical,
        Lower,
        r#"^\s*[\w@.]*['"`]\s*([-+&|^*/%=]|\|\||&&|<>|!=)\s*['"`][\w@.]*\s*$|^\s*['"`]\w{0,20}['"`]\s*(=|<>|!=)\s*['"`]\w{0,20}['"`]?\s*$|^\s*[\w@.]*['"`]\s*[-+*/|^&]\s*\w{0,10}\s*[-+*/|^&]\s*['"`][\w@.]*\s*$|;select\s+(\d+|null|@@\w+)\s*(,|;|$|--|#|/\*|\bfrom\b)|\|\|\s*\(\s*select\b"#,
    ),
    // Round 9. A function call spliced into a string by `||` concatenation on both sides
    // (`' || myapp.adduser('admin', 'x') || '`: Oracle / PostgreSQL run it while building
    // the string); numeric tautologies glued to their keywords (`1or1=1`); MS SQL backups
    // written to a share (`backup database master to disk='\\host\x'`).
    p(
        "sqli-146",
        Sqli,
        Critical,
        Lower,
        r#"['"]\s*\|\|\s*[a-z_][\w.$]*\s*\([^()]{0,120}\)\s*\|\|\s*['"]|\b\d+(or|and|xor)\d+\s*(=|<>|!=|<|>)\s*\d+\b|\bbackup\s+(database|log)\s+\S+\s+to\s+(disks?|url|tape)\s*="#,
    ),
];

const LIBINJECTION_SQLI: RuleInfo = RuleInfo {
    id: "sqli-001",
    category: Sqli,
    severity: Critical,
};

/// libinjection matched on a fingerprint that ordinary text also produces: three tokens
/// or fewer (`s&s` for "what does 'or' mean"), or a whole statement starting with a
/// keyword (`E...`: an SQL snippet pasted in a comment, not a value breaking out of a
/// literal). Scored as a warning, so it blocks only together with another rule.
const LIBINJECTION_SQLI_WEAK: RuleInfo = RuleInfo {
    id: "sqli-002",
    category: Sqli,
    severity: Warning,
};

const COMMENT_SPLIT: RuleInfo = RuleInfo {
    id: "sqli-113",
    category: Sqli,
    severity: Critical,
};

/// libinjection's SQLi check (`barbacane-libinjection`, a pure-Rust port differentially
/// tested against the C library). It tokenises the value in the three quote contexts and
/// compares the token fingerprint with a list of known injection fingerprints, which is
/// what lets it pass `O'Brien` and flag `1' or '1'='1`.
#[derive(Debug, Clone, Copy)]
pub struct LibinjectionSqli;

impl Detector for LibinjectionSqli {
    fn rules(&self) -> &'static [RuleInfo] {
        &[LIBINJECTION_SQLI, LIBINJECTION_SQLI_WEAK, COMMENT_SPLIT]
    }

    fn detect(&self, subject: &Subject<'_>, hits: &mut Vec<Hit>) {
        let v = subject.norm.decoded.as_bytes();
        // The tokenizer is the most expensive step of inspection. A value without a quote,
        // an operator, a parenthesis or a comment cannot close a literal or build an
        // expression; the bare keyword forms (`1 union select`) are the pattern rules' job.
        let worth_it = v.len() >= 2
            && (v.iter().any(|b| {
                matches!(
                    b,
                    b'\''
                        | b'"'
                        | b'`'
                        | b';'
                        | b'='
                        | b'('
                        | b')'
                        | b'|'
                        | b'&'
                        | b'<'
                        | b'>'
                        | b'*'
                        | b'#'
                        | b'\\'
                )
            }) || v.windows(2).any(|w| w == b"--" || w == b"/*"));
        if !worth_it {
            return;
        }
        let r = libinjectionrs::detect_sqli(v);
        if r.is_injection() {
            let fp = r.fingerprint.as_ref().map_or("", |f| f.as_str());
            let weak = fp.len() <= 3 || fp.starts_with('E') || call_on_one_word(fp, v);
            hits.push(Hit {
                rule: if weak {
                    LIBINJECTION_SQLI_WEAK
                } else {
                    LIBINJECTION_SQLI
                },
                variant: crate::normalize::Variant::Decoded,
                span: (0, v.len()),
            });
        }
        // `UN/**/ION SEL/**/ECT`: keywords split by comments, which the `sql` variant turns
        // into spaces. Joined, they must form a statement.
        let lower = subject.norm.lower.as_str();
        if lower.contains("/*") {
            let joined = join_comments(lower);
            if joined != lower && split_keywords(&joined) {
                hits.push(Hit {
                    rule: COMMENT_SPLIT,
                    variant: crate::normalize::Variant::Lower,
                    span: (0, lower.len()),
                });
            }
        }
    }
}

/// A fingerprint that is just a function applied to one word, maybe followed by one more
/// word or number (`f(n)`, `f(n)1`): what a label or a note with a parenthesis after a word
/// that happens to name an SQL function gives ("Format (PDF)", "Length (cm)", "max(a, b)
/// returns ..."). With a number inside (`f(1)`) only when a space separates the name from
/// the parenthesis ("Year (2024)"); `chr(123)`, `sleep(5)` stay strong. The injection forms
/// of such calls (compared, nested, after a boolean) are the pattern rules' job.
fn call_on_one_word(fp: &str, value: &[u8]) -> bool {
    let b = fp.as_bytes();
    let shape = b.len() >= 4
        && b.len() <= 5
        && b.first() == Some(&b'f')
        && b.get(1) == Some(&b'(')
        && b.get(3) == Some(&b')')
        && matches!(b.get(4), None | Some(b'n' | b'1'));
    match b.get(2) {
        Some(b'n') => shape,
        Some(b'1') => {
            shape
                && value
                    .iter()
                    .position(|&c| c == b'(')
                    .and_then(|i| i.checked_sub(1))
                    .and_then(|i| value.get(i))
                    .is_some_and(u8::is_ascii_whitespace)
        }
        _ => false,
    }
}

/// Removes `/* ... */` comments without leaving a space.
fn join_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("/*") {
        out.push_str(rest.get(..i).unwrap_or(""));
        let after = rest.get(i.saturating_add(2)..).unwrap_or("");
        match after.find("*/") {
            Some(j) => rest = after.get(j.saturating_add(2)..).unwrap_or(""),
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether a comment-joined value contains a UNION / stacked statement shape.
fn split_keywords(joined: &str) -> bool {
    let words: Vec<&str> = joined
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .collect();
    words.windows(2).any(|w| {
        matches!(
            (w.first().copied(), w.get(1).copied()),
            (Some("union"), Some("select" | "all" | "distinct"))
                | (
                    Some("select"),
                    Some("from" | "null" | "version" | "user" | "database")
                )
                | (Some("drop"), Some("table" | "database"))
                | (Some("or" | "and"), Some("1" | "true"))
        )
    })
}
