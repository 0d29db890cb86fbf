//! `portcullis keys`: API-key lifecycle from the command line. Writes go to the same store the
//! gateway reads (SQLite in WAL mode), so a revocation takes effect on the next request.

use std::path::Path;
use std::process::ExitCode;

use portcullis_auth::api_key::{self, Pepper};
use portcullis_auth::sealed::Keyring;
use portcullis_store::{ApiKeyRecord, KeyKind, NewConsumer, SqliteStore, Store};
use serde_json::json;

use crate::{KeyKindArg, KeysCommand, Output};

const ACTOR: &str = "cli";

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn duration_secs(text: &str) -> Result<i64, String> {
    humantime::parse_duration(text)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .map_err(|e| format!("invalid duration `{text}`: {e}"))
}

/// The config (for the store and key locations): the file, or the embedded quickstart.
pub(crate) fn load_spec(config: Option<&Path>) -> Result<portcullis_config::ConfigSpec, String> {
    let loaded = match config {
        Some(p) => portcullis_config::load_file(p),
        None => portcullis_config::load_str(
            crate::EMBEDDED_QUICKSTART,
            Path::new("<embedded quickstart>"),
        ),
    }
    .map_err(|e| e.to_string())?;
    Ok(loaded.spec)
}

/// The master-key ring of the config (for signing keys, whose secrets are sealed).
fn keyring(config: Option<&Path>) -> Result<Keyring, String> {
    let spec = load_spec(config)?;
    Keyring::load(
        spec.store.master_key_file.as_deref(),
        &spec.store.previous_master_key_files,
    )
}

/// The store file a config names (default `<data_dir>/portcullis.db`), opened.
pub(crate) fn open_store(spec: &portcullis_config::ConfigSpec) -> Result<SqliteStore, String> {
    let path = spec
        .store
        .path
        .clone()
        .unwrap_or_else(|| spec.data_dir.join("portcullis.db"));
    SqliteStore::open(&path).map_err(|e| e.to_string())
}

pub(crate) fn open(config: Option<&Path>) -> Result<(SqliteStore, Pepper), String> {
    let spec = load_spec(config)?;
    let path = spec
        .store
        .path
        .clone()
        .unwrap_or_else(|| spec.data_dir.join("portcullis.db"));
    let store = SqliteStore::open(&path).map_err(|e| e.to_string())?;
    let pepper = portcullis_auth::pepper::load_pepper(
        spec.store.pepper_file.as_deref(),
        &spec.data_dir.join("pepper"),
    )?;
    Ok((store, pepper))
}

fn describe(k: &ApiKeyRecord, consumer: &str, now: i64) -> serde_json::Value {
    let mut v = k.public_view(now);
    v["consumer"] = json!(consumer);
    v
}

/// Issues a credential of the template's kind: an API key, or a signing key whose secret is
/// sealed under the master key.
fn issue(
    store: &SqliteStore,
    pepper: &Pepper,
    template: &ApiKeyRecord,
    config: Option<&Path>,
) -> Result<(String, String), String> {
    let (id, key) = match template.kind {
        KeyKind::ApiKey => api_key::issue(store, pepper, template, ACTOR, now())?,
        KeyKind::Hmac => {
            api_key::issue_signing_key(store, &keyring(config)?, template, ACTOR, now())?
        }
    };
    Ok((id, key.expose().clone()))
}

fn print_key(output: Output, kind: KeyKind, id: &str, key: &str, consumer: &str) {
    if kind == KeyKind::Hmac {
        match output {
            Output::Json => println!(
                "{}",
                json!({ "id": id, "kind": "hmac", "secret": key, "consumer": consumer })
            ),
            Output::Text => {
                println!("id:       {id}");
                println!("kind:     hmac");
                println!("consumer: {consumer}");
                println!("secret:   {key}");
                println!(
                    "The secret is shown only now; store it safely (e.g. a file for `portcullis sign --secret-file`)."
                );
            }
        }
        return;
    }
    match output {
        Output::Json => println!("{}", json!({ "id": id, "key": key, "consumer": consumer })),
        Output::Text => {
            println!("id:       {id}");
            println!("consumer: {consumer}");
            println!("key:      {key}");
            println!("The key is shown only now; store it safely.");
        }
    }
}

fn run_inner(config: Option<&Path>, command: KeysCommand) -> Result<(), String> {
    let (store, pepper) = open(config)?;
    let now = now();
    let consumer_name = |id: &str| {
        store
            .consumer(id)
            .ok()
            .flatten()
            .map(|c| c.name)
            .unwrap_or_default()
    };
    match command {
        KeysCommand::Create {
            consumer,
            kind,
            scopes,
            expires,
            allow_ip,
            allow_referrer,
            routes,
            output,
        } => {
            for ip in &allow_ip {
                ip.parse::<portcullis_config::Cidr>()?;
            }
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
            let expires_at = expires
                .as_deref()
                .map(duration_secs)
                .transpose()?
                .map(|s| now.saturating_add(s));
            let template = ApiKeyRecord {
                id: String::new(),
                consumer_id: owner.id,
                hash: Vec::new(),
                scopes,
                allow_ips: allow_ip,
                allow_referrers: allow_referrer,
                routes,
                created_at: now,
                expires_at,
                revoked_at: None,
                last_used_at: None,
                replaced_by: None,
                kind: match kind {
                    KeyKindArg::ApiKey => KeyKind::ApiKey,
                    KeyKindArg::Hmac => KeyKind::Hmac,
                },
                sealed_secret: None,
            };
            let (id, key) = issue(&store, &pepper, &template, config)?;
            print_key(output, template.kind, &id, &key, &consumer);
        }
        KeysCommand::List { consumer, output } => {
            let owner = match &consumer {
                Some(name) => Some(
                    store
                        .consumer_by_name(name)
                        .map_err(|e| e.to_string())?
                        .ok_or(format!("no consumer `{name}`"))?
                        .id,
                ),
                None => None,
            };
            let keys = store
                .list_api_keys(owner.as_deref())
                .map_err(|e| e.to_string())?;
            let rows: Vec<_> = keys
                .iter()
                .map(|k| describe(k, &consumer_name(&k.consumer_id), now))
                .collect();
            match output {
                Output::Json => println!("{}", serde_json::Value::Array(rows)),
                Output::Text => {
                    println!(
                        "{:<14} {:<8} {:<16} {:<8} {:<12} {:<12}",
                        "ID", "KIND", "CONSUMER", "STATUS", "EXPIRES", "LAST USED"
                    );
                    for r in rows {
                        let t = |v: &serde_json::Value| {
                            v.as_i64().map_or("-".to_string(), |s| s.to_string())
                        };
                        println!(
                            "{:<14} {:<8} {:<16} {:<8} {:<12} {:<12}",
                            r["id"].as_str().unwrap_or(""),
                            r["kind"].as_str().unwrap_or(""),
                            r["consumer"].as_str().unwrap_or(""),
                            r["status"].as_str().unwrap_or(""),
                            t(&r["expires_at"]),
                            t(&r["last_used_at"])
                        );
                    }
                }
            }
        }
        KeysCommand::Show { id, output } => {
            let k = store
                .api_key(&id)
                .map_err(|e| e.to_string())?
                .ok_or(format!("no key `{id}`"))?;
            let consumer = consumer_name(&k.consumer_id);
            let mut v = describe(&k, &consumer, now);
            // Quota usage of the key's consumer (counted per consumer; flushed by the
            // gateway once a second), newest window first.
            let usage = store
                .quota_usage(&format!("|c={consumer}"))
                .map_err(|e| e.to_string())?;
            v["quota_usage"] = serde_json::Value::Array(
                usage
                    .into_iter()
                    .filter(|(key, _, _)| key.ends_with(&format!("|c={consumer}")))
                    .map(|(key, window, used)| {
                        let quota = key.split('|').next().unwrap_or("").to_string();
                        serde_json::json!({"quota": quota, "window": window, "used": used})
                    })
                    .collect(),
            );
            match output {
                Output::Json => println!("{v}"),
                Output::Text => {
                    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default())
                }
            }
        }
        KeysCommand::Revoke { id } => {
            if store
                .revoke_api_key(&id, ACTOR, now)
                .map_err(|e| e.to_string())?
            {
                println!("revoked {id}");
            } else {
                println!("{id} was already revoked");
            }
        }
        KeysCommand::Totp { .. } => return Err("handled above".into()),
        KeysCommand::Rotate { id, grace, output } => {
            let old = store
                .api_key(&id)
                .map_err(|e| e.to_string())?
                .ok_or(format!("no key `{id}`"))?;
            let grace = duration_secs(&grace)?;
            let (new_id, key) = issue(&store, &pepper, &old, config)?;
            store
                .retire_api_key(&id, &new_id, now.saturating_add(grace), ACTOR, now)
                .map_err(|e| e.to_string())?;
            print_key(
                output,
                old.kind,
                &new_id,
                &key,
                &consumer_name(&old.consumer_id),
            );
        }
    }
    Ok(())
}

/// Runs a `keys` command; exit 1 with a message on failure.
pub fn run(config: Option<&Path>, command: KeysCommand) -> ExitCode {
    let result = match command {
        KeysCommand::Totp { command } => crate::accounts::totp(config, command),
        other => run_inner(config, other),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portcullis keys: {e}");
            ExitCode::from(1)
        }
    }
}
