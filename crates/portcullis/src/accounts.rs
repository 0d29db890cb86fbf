//! `portcullis accounts` (built-in accounts for HTTP Basic) and `portcullis keys totp`
//! (their second factor). Passwords come from standard input only: a command line is visible
//! to every local user (`ps`) and lands in shell history. Every change is written to the
//! store's change history by the store itself.

use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;
use portcullis_auth::{basic, sealed::Keyring, totp};
use portcullis_store::{AccountRecord, NewConsumer, Store};
use serde_json::json;

use crate::Output;
use crate::keys::{load_spec, now, open_store};

const ACTOR: &str = "cli";

/// `accounts` subcommands.
#[derive(Subcommand, Debug)]
pub enum AccountsCommand {
    /// Create an account; the password is read from standard input (first line).
    Create {
        /// Login name (no `:`, spaces or control characters).
        username: String,
        /// The consumer the account acts as (created if new).
        #[arg(long)]
        consumer: String,
        /// Roles of the account (comma-separated or repeated). Default: the consumer's.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// Scopes of the account (comma-separated or repeated). Default: the consumer's.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// Read the password from standard input (the only way; accepted for clarity).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change an account's password (read from standard input); lifts a lockout.
    Passwd {
        /// Login name.
        username: String,
        /// Read the password from standard input (the only way; accepted for clarity).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account: refused from the next request on.
    Disable {
        /// Login name.
        username: String,
    },
    /// Enable an account again; also lifts a brute-force lockout.
    Enable {
        /// Login name.
        username: String,
    },
    /// List accounts (never hashes or seeds).
    List {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
    },
}

/// `keys totp` subcommands.
#[derive(Subcommand, Debug)]
pub enum TotpCommand {
    /// Create (or replace) an account's TOTP seed and print the `otpauth://` URI and a QR code
    /// for an authenticator app. Needs the master key (`store.master_key_file`).
    Enroll {
        /// Login name.
        username: String,
        /// Issuer shown by authenticator apps.
        #[arg(long, default_value = "portcullis")]
        issuer: String,
        /// Output format (`json` prints the URI and secret without a QR code).
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
    },
    /// Remove an account's TOTP seed.
    Remove {
        /// Login name.
        username: String,
    },
}

/// The first line of standard input, without its line ending.
fn read_password() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("reading the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(
            "no password on standard input (pipe it in, e.g. `… --password-stdin < file`)".into(),
        );
    }
    Ok(password)
}

/// Applies the policy and hashes.
fn new_hash(username: &str) -> Result<String, String> {
    let password = read_password()?;
    basic::check_policy(username, &password).map_err(|e| e.to_string())?;
    basic::hash_password(&password).map_err(|e| e.to_string())
}

fn run_inner(config: Option<&Path>, command: AccountsCommand) -> Result<(), String> {
    let spec = load_spec(config)?;
    let store = open_store(&spec)?;
    let now = now();
    match command {
        AccountsCommand::Create {
            username,
            consumer,
            roles,
            scopes,
            password_stdin: _,
        } => {
            basic::check_username(&username).map_err(|e| e.to_string())?;
            if store
                .account(&username)
                .map_err(|e| e.to_string())?
                .is_some()
            {
                return Err(format!("account `{username}` already exists"));
            }
            let password_hash = new_hash(&username)?;
            let owner = match store
                .consumer_by_name(&consumer)
                .map_err(|e| e.to_string())?
            {
                Some(c) => c,
                None => store
                    .create_consumer(
                        &NewConsumer {
                            name: consumer.clone(),
                            ..Default::default()
                        },
                        ACTOR,
                        now,
                    )
                    .map_err(|e| e.to_string())?,
            };
            store
                .create_account(
                    &AccountRecord {
                        username: username.clone(),
                        consumer_id: owner.id,
                        password_hash,
                        roles,
                        scopes,
                        status: "active".into(),
                        totp_sealed: None,
                        totp_last_step: None,
                        locked_until: None,
                        created_at: now,
                        updated_at: now,
                    },
                    ACTOR,
                    now,
                )
                .map_err(|e| e.to_string())?;
            println!("created account {username} (consumer {consumer})");
        }
        AccountsCommand::Passwd {
            username,
            password_stdin: _,
        } => {
            if store
                .account(&username)
                .map_err(|e| e.to_string())?
                .is_none()
            {
                return Err(format!("no account `{username}`"));
            }
            let hash = new_hash(&username)?;
            store
                .set_account_password(&username, &hash, ACTOR, now)
                .map_err(|e| e.to_string())?;
            println!("password of {username} changed");
        }
        AccountsCommand::Disable { username } => {
            let changed = store
                .set_account_status(&username, "disabled", ACTOR, now)
                .map_err(|e| e.to_string())?;
            println!(
                "{username} {}",
                if changed {
                    "disabled"
                } else {
                    "was already disabled"
                }
            );
        }
        AccountsCommand::Enable { username } => {
            let changed = store
                .set_account_status(&username, "active", ACTOR, now)
                .map_err(|e| e.to_string())?;
            println!(
                "{username} {}",
                if changed {
                    "enabled"
                } else {
                    "was already enabled"
                }
            );
        }
        AccountsCommand::List { output } => {
            let rows: Vec<serde_json::Value> = store
                .list_accounts()
                .map_err(|e| e.to_string())?
                .iter()
                .map(|a| {
                    let mut v = a.public_view(now);
                    v["consumer"] = json!(
                        store
                            .consumer(&a.consumer_id)
                            .ok()
                            .flatten()
                            .map(|c| c.name)
                            .unwrap_or_default()
                    );
                    v
                })
                .collect();
            match output {
                Output::Json => println!("{}", serde_json::Value::Array(rows)),
                Output::Text => {
                    println!(
                        "{:<20} {:<16} {:<9} {:<5} {:<12}",
                        "USERNAME", "CONSUMER", "STATUS", "TOTP", "LOCKED UNTIL"
                    );
                    for r in rows {
                        println!(
                            "{:<20} {:<16} {:<9} {:<5} {:<12}",
                            r["username"].as_str().unwrap_or(""),
                            r["consumer"].as_str().unwrap_or(""),
                            r["status"].as_str().unwrap_or(""),
                            if r["totp_enrolled"] == true {
                                "yes"
                            } else {
                                "no"
                            },
                            r["locked_until"]
                                .as_i64()
                                .map_or("-".to_string(), |t| t.to_string())
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// Runs an `accounts` command; exit 1 with a message on failure.
pub fn run(config: Option<&Path>, command: AccountsCommand) -> ExitCode {
    match run_inner(config, command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portcullis accounts: {e}");
            ExitCode::from(1)
        }
    }
}

/// A QR code of `text` drawn with Unicode half blocks (two modules per character cell), light
/// on dark so it scans on dark and light terminals alike thanks to the quiet zone.
fn qr_text(text: &str) -> Result<String, String> {
    use qrcode::render::unicode::Dense1x2;
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| format!("QR code: {e}"))?;
    Ok(code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .build())
}

/// `keys totp …`.
pub fn totp(config: Option<&Path>, command: TotpCommand) -> Result<(), String> {
    let spec = load_spec(config)?;
    let store = open_store(&spec)?;
    let now = now();
    match command {
        TotpCommand::Enroll {
            username,
            issuer,
            output,
        } => {
            if store
                .account(&username)
                .map_err(|e| e.to_string())?
                .is_none()
            {
                return Err(format!("no account `{username}`"));
            }
            let ring = Keyring::load(
                spec.store.master_key_file.as_deref(),
                &spec.store.previous_master_key_files,
            )?;
            let seed = totp::generate_seed().map_err(|e| e.to_string())?;
            let sealed = ring
                .seal(&totp::seal_context(&username), &seed)
                .map_err(|e| e.to_string())?;
            store
                .set_account_totp(&username, Some(&sealed), ACTOR, now)
                .map_err(|e| e.to_string())?;
            let uri = totp::otpauth_uri(&issuer, &username, &seed);
            match output {
                Output::Json => println!(
                    "{}",
                    json!({ "username": username, "uri": uri, "secret": totp::base32(&seed) })
                ),
                Output::Text => {
                    println!("{}", qr_text(&uri)?);
                    println!("{uri}");
                    println!(
                        "Scan the code (or enter the URI) in an authenticator app now: the secret is shown only once."
                    );
                }
            }
        }
        TotpCommand::Remove { username } => {
            store
                .set_account_totp(&username, None, ACTOR, now)
                .map_err(|e| e.to_string())?;
            println!("TOTP removed from {username}");
        }
    }
    Ok(())
}
