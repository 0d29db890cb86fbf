//! Round 9 rule tests: false positives met in round 8 and fixed, and the classes the blind
//! measurements of round 9 let through. Every attack has a benign twin.

mod common;

use common::{benign, blocked};

#[test]
fn echo_at_the_start_of_a_sentence_is_prose() {
    for text in [
        "echo $SHELL prints your login shell",
        "echo /tmp shows the path back to you",
        "printf %s formats a string",
    ] {
        benign("json", "comment", text);
    }
    for attack in [
        "echo $PATH",
        "echo /etc/passwd > /var/www/x.php",
        "echo $SHELL; id",
        "x; echo $SHELL prints",
        "a|printf ~/.ssh/id_rsa",
        "$(echo $HOME)",
    ] {
        blocked("query", "q", attack);
    }
}

#[test]
fn generic_types_after_a_paren_are_no_comparison() {
    for text in [
        "Map<String,Integer>(16) and Vec<u8> are both generic",
        "new HashMap<>(8) and Vec<String>",
        "call f(x) and List<Item>",
    ] {
        benign("json", "comment", text);
    }
    for attack in [
        "') or a<'b",
        "1) and id<1",
        "x') or col>(select 1)",
        "') or 2>=1",
        "\") and x<@v",
    ] {
        blocked("query", "id", attack);
    }
}
