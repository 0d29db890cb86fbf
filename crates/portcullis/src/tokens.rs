//! `portcullis tokens`: revoke bearer tokens (JWTs) by `jti` or by subject cut-off. Running
//! gateways sharing the store refuse them within about a second.

use std::path::Path;

use clap::Subcommand;
use portcullis_store::{Store, TokenRevocation};

use crate::Output;
use crate::keys::{now, open};

/// `tokens` subcommands.
#[derive(Subcommand, Debug)]
pub enum TokensCommand {
    /// Revoke one token by its `jti`, or every token of a subject issued before a time.
    Revoke {
        /// The issuer (`iss`) of the tokens, as in the route's `auth.jwt.issuer`.
        #[arg(long)]
        issuer: String,
        /// The token's `jti`.
        #[arg(long, conflicts_with = "subject", required_unless_present = "subject")]
        jti: Option<String>,
        /// The subject (`sub`): all its tokens issued before `--before` are refused.
        #[arg(long)]
        subject: Option<String>,
        /// Cut-off for `--subject`, RFC 3339 (e.g. `2026-12-03T10:00:00Z`). Default: now.
        #[arg(long, requires = "subject")]
        before: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
    },
    /// List token revocations.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
    },
}

/// Runs a `tokens` subcommand.
pub fn run(config: Option<&Path>, command: TokensCommand) -> Result<(), String> {
    let (store, _) = open(config)?;
    match command {
        TokensCommand::Revoke {
            issuer,
            jti,
            subject,
            before,
            output,
        } => {
            let now = now();
            let (kind, value, before) = match (jti, subject) {
                (Some(j), _) => ("jti", j, None),
                (None, Some(s)) => {
                    let at = match before {
                        Some(t) => t
                            .parse::<jiff::Timestamp>()
                            .map_err(|e| format!("invalid --before `{t}`: {e}"))?
                            .as_second(),
                        None => now,
                    };
                    ("subject", s, Some(at))
                }
                (None, None) => return Err("give --jti or --subject".into()),
            };
            let r = TokenRevocation {
                issuer,
                kind: kind.into(),
                value,
                before,
                created_at: now,
            };
            let seq = store
                .revoke_token(&r, "cli", now)
                .map_err(|e| e.to_string())?;
            match output {
                Output::Json => println!(
                    "{}",
                    serde_json::json!({"seq": seq, "kind": r.kind, "value": r.value, "issuer": r.issuer, "before": r.before})
                ),
                Output::Text => println!("revoked {} {} of {}", r.kind, r.value, r.issuer),
            }
        }
        TokensCommand::List { output } => {
            let all = store
                .token_revocations_since(0)
                .map_err(|e| e.to_string())?;
            let rows: Vec<serde_json::Value> = all
                .iter()
                .map(|(seq, r)| serde_json::json!({"seq": seq, "issuer": r.issuer, "kind": r.kind, "value": r.value, "before": r.before, "created_at": r.created_at}))
                .collect();
            match output {
                Output::Json => println!("{}", serde_json::Value::Array(rows)),
                Output::Text => {
                    for r in rows {
                        println!("{r}");
                    }
                }
            }
        }
    }
    Ok(())
}
