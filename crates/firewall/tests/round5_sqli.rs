//! Round-5 SQL-injection rules (issue 5): for each, attacks of the class asserted blocked
//! *by that rule* in different placements, and benign twins that share its words or
//! characters asserted allowed.

mod common;

use common::{attack, benign};

#[test]
fn sqli_131_open_call_of_an_sql_function() {
    attack("sqli-131", "query", "id", "ascii(");
    attack("sqli-131", "json", "sort", "LENGTH||(");
    attack("sqli-131", "form", "x", "floor (");
    attack("sqli-131", "header", "x", "select(user(");
    attack("sqli-131", "cookie", "pref", "if(2=");
    attack("sqli-131", "query", "id", "1 and ascii(");
    attack("sqli-131", "json", "id", "x=substr(");
    benign("json", "note", "no time :(");
    benign("json", "note", "time :(");
    benign("query", "since", "now()");
    benign("json", "note", "Delivered on time (mostly)");
}

#[test]
fn sqli_132_whole_value_sql_fragment() {
    attack("sqli-132", "query", "id", "in (0,1)");
    attack("sqli-132", "json", "filter", "IS NULL");
    attack("sqli-132", "form", "x", "and 7=");
    attack("sqli-132", "header", "x", "or 'a' <");
    benign("json", "note", "in (2 weeks) we ship again");
    benign("json", "note", "or 2-3 business days");
    benign("query", "q", "and 'Friends' too");
    benign("form", "msg", "is null and void");
    benign("query", "q", "or 1");
    attack("sqli-132", "cookie", "x", "or a = a");
    benign("json", "note", "or whatever = fine by me");
}

#[test]
fn sqli_133_open_quote_then_statement_keyword() {
    attack("sqli-133", "query", "q", "'alter a");
    attack("sqli-133", "json", "name", "\" UNION A");
    attack("sqli-133", "cookie", "c", "'select H");
    benign("query", "q", "\"Union Station\" parking");
    benign("json", "label", "'Select all' button is greyed out");
    benign("json", "title", "\"Alter ego\" by the band");
    benign("query", "q", "\"Select Comfort mattress");
}

#[test]
fn sqli_134_sql_clause_shapes() {
    attack(
        "sqli-134",
        "query",
        "sort",
        " case when condition1 then result1",
    );
    attack(
        "sqli-134",
        "json",
        "q",
        "x' GROUP BY category HAVING COUNT(id) >= 9",
    );
    attack(
        "sqli-134",
        "form",
        "q",
        "CREATE FUNCTION hello (s CHAR(20)) RETURNS CHAR(50) RETURN s;",
    );
    attack("sqli-134", "header", "x", "'x'!='y");
    attack("sqli-134", "query", "email", "a@b.c&name=(select");
    attack("sqli-134", "cookie", "q", "something LIKE '");
    benign(
        "json",
        "note",
        "In case when it rains then we stay home; group by region having fun.",
    );
    benign("query", "q", "set mode = 'dark' when x != 1");
    attack(
        "sqli-134",
        "form",
        "q",
        "x; alter table users convert to character set utf8",
    );
    benign("json", "note", "alter the table layout to convert units");
    attack("sqli-134", "query", "q", "' or 'a' COLLATE utf8_bin = 'a");
    attack("sqli-134", "json", "q", "x' collate nocase like 'x");
    benign(
        "json",
        "note",
        "Sort names with 'collate' rules, e.g. 'de' collation",
    );
    benign("json", "note", "Case when needed then call me");
    benign("form", "msg", "case when it is raining then stay home");
    benign(
        "json",
        "body",
        "Report: SELECT name FROM users GROUP BY region HAVING COUNT(*) > 1; shows 3",
    );
}

#[test]
fn sqli_135_bare_drop_commented_out() {
    attack("sqli-135", "query", "q", "DROP sampletable;--");
    attack("sqli-135", "json", "name", "x'; truncate logs;#");
    attack("sqli-135", "form", "q", "OR 1# ");
    attack("sqli-135", "cookie", "c", "and 2--");
    benign("json", "note", "Drop shipping; -- see the notes below");
    benign("form", "msg", "drop it; we are done");
    benign("json", "note", "or 2 -- whichever is cheaper");
}

#[test]
fn sqli_136_info_functions_in_sql_context() {
    attack("sqli-136", "query", "id", "version()");
    attack("sqli-136", "json", "q", "concat(0x3a,user())");
    attack(
        "sqli-136",
        "form",
        "id",
        "1 and st_latfromgeohash(version())",
    );
    attack("sqli-136", "header", "x", "x' and database()='shop");
    attack("sqli-136", "cookie", "q", "1 union select*from users");
    attack("sqli-136", "query", "id", "1 xor 1");
    benign(
        "json",
        "code",
        "const u = auth.user(); if (user() == null) login();",
    );
    benign("json", "code", "$db->version() returns the server version");
    benign("query", "q", "select * from the menu");
    benign("json", "note", "an xor gate has 2 inputs");
    attack("sqli-136", "form", "id", "@a:=(select 1)");
    attack("sqli-136", "json", "id", "@.:=right(right((select 1),1),1)");
    benign("json", "code", "x := @y + 1 in the pseudo-code");
}

#[test]
fn sqli_137_quoted_operator_probe() {
    attack("sqli-137", "query", "q", "'='");
    attack("sqli-137", "json", "name", "'LIKE'");
    attack("sqli-137", "form", "x", "'-'");
    benign("json", "note", "'-' means no value");
    benign("query", "sep", "-");
}

#[test]
fn round5_widened_existing_rules() {
    // sqli-103: `&&` / `||`, glued `<` / `>`, arithmetic, hex, between.
    attack("sqli-103", "query", "id", "1 && 1=1");
    attack("sqli-103", "json", "id", "1 and 2>1");
    attack("sqli-103", "form", "id", "-1 OR 2+2-2-1=1");
    attack("sqli-103", "query", "id", "1 OR 0x50=0x50");
    attack("sqli-103", "header", "x", "1 or 1 between 0 and 2");
    attack("sqli-103", "cookie", "id", "1 and 0b1=0b1");
    benign("json", "note", "10 > 5 and 5 < 10");
    benign("json", "note", "pick 2 or 3 between now and Friday");
    // sqli-106: `@@version` at the start of a value.
    attack("sqli-106", "query", "q", "@@version");
    attack("sqli-106", "cookie", "c", "1 and @@version>0");
    benign("json", "note", "ping @@maria about the version");
    // sqli-112: `COPY (query) TO PROGRAM`.
    attack(
        "sqli-112",
        "query",
        "id",
        "1;copy (select '') to program 'id'",
    );
    attack(
        "sqli-112",
        "json",
        "q",
        "x'; COPY (SELECT 1) TO PROGRAM 'curl x'",
    );
    benign(
        "json",
        "note",
        "copy (the second one) to the shared program folder",
    );
}

#[test]
fn libinjection_call_on_one_word_is_weak() {
    // `f(n)`: a word naming an SQL function, then a parenthesised word.
    benign("form", "label", "Format (PDF)");
    benign("json", "unit", "Length (cm)");
    benign("json", "note", "max(a, b) returns the larger one");
    // `f(1)` only with a space before the parenthesis.
    benign("query", "col", "Year (2024)");
    attack("sqli-001", "query", "q", "chr(123)");
    attack("sqli-001", "json", "q", "1 and ascii(x)>1");
}

#[test]
fn sqli_138_literal_operator_literal_probe() {
    attack("sqli-138", "query", "q", "x'='x");
    attack("sqli-138", "json", "name", "admin'+'");
    attack("sqli-138", "form", "id", "1'^'1");
    attack("sqli-138", "cookie", "id", "1;select 1");
    attack("sqli-138", "header", "x", "$$ || (select 1) || $$");
    benign("json", "note", "Tom's - 'Jerry'");
    benign("json", "genre", "rock'n'roll");
    attack("sqli-138", "query", "q", "`a`=`a`");
    attack("sqli-138", "json", "q", "'-0-'");
    attack("sqli-138", "form", "q", "x'-1-'");
    benign("json", "note", "'a'='a' is a tautology");
    benign("form", "msg", "done;select 2 items next");
}

#[test]
fn round5_negated_and_truth_tests() {
    attack("sqli-103", "query", "id", "1 and not 1=2");
    attack("sqli-103", "json", "id", "1 and 1 is true");
    benign("json", "note", "1 and 1 is the answer");
    // sqli-119 after `is not`: a number, a quote or a truth value only.
    attack("sqli-119", "query", "a", "1 is not 2");
    benign("json", "msg", "Size 5 is not available");
    benign("form", "msg", "and 5 is not enough");
}

#[test]
fn round5_widened_union_and_boolean_call() {
    attack("sqli-101", "query", "id", "1 union distinctrow select 1");
    attack("sqli-101", "header", "x", "1 union#\ndistinctrow select 1");
    attack(
        "sqli-130",
        "form",
        "email",
        "a@b.c\\' and( likelihood (id,.0));'",
    );
    attack("sqli-130", "json", "q", "x' or(json_valid(id))--");
    benign("json", "note", "union distinctrow is a MySQL keyword");
    benign("json", "note", "Tom's and (sometimes) Ann's (or not);");
}
