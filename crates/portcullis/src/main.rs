//! The `portcullis` binary: command line, wiring and exit codes.
//!
//! Exit codes: 0 success; 1 invalid configuration (`check`, or `serve` refusing to start on
//! a bad config); 2 usage errors (clap); 3 a start-up failure other than the config (a port
//! in use, unreadable certificate).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod accounts;
mod keys;
mod sign;
mod tokens;

/// portcullis — an API security gateway.
#[derive(Parser, Debug)]
#[command(name = "portcullis", version = concat!(env!("CARGO_PKG_VERSION")), about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the gateway.
    Serve {
        /// The config file (YAML). Without it, the embedded quickstart config is used
        /// (HTTPS on 127.0.0.1:8443 with a generated certificate, admin on 127.0.0.1:9901,
        /// the built-in echo upstream).
        #[arg(short, long, env = "PORTCULLIS_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Issue, list, rotate and revoke API keys (stored hashed in the config's credential store).
    Keys {
        /// The config file (for the store location). Without it: the quickstart's `./data`.
        #[arg(short, long, env = "PORTCULLIS_CONFIG", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Sign a request with an HMAC signing key (`keys create --kind hmac`) and print the
    /// headers to send: `Authorization: PCS1-HMAC-SHA256 …` (docs/request-signing.md).
    Sign(sign::SignArgs),
    /// Built-in accounts for HTTP Basic: create, change password, disable, enable, list.
    /// Passwords are read from standard input, never from the command line.
    Accounts {
        /// The config file (for the store location). Without it: the quickstart's `./data`.
        #[arg(short, long, env = "PORTCULLIS_CONFIG", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: accounts::AccountsCommand,
    },
    /// Revoke bearer tokens by `jti` or by subject (all tokens issued before a time).
    Tokens {
        /// The config file (for the store location). Without it: the quickstart's `./data`.
        #[arg(short, long, env = "PORTCULLIS_CONFIG", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: tokens::TokensCommand,
    },
    /// Validate a config file and lint it for security misconfiguration. Exit 0 when valid,
    /// 1 when not; every problem is printed as file:line:column: key: message.
    Check {
        /// The config file (YAML).
        #[arg(
            short,
            long,
            env = "PORTCULLIS_CONFIG",
            default_value = "portcullis.yaml"
        )]
        config: PathBuf,
    },
    /// Generate an admin API token: prints the token (give it to the operator) and its
    /// SHA-256 (put it in `admin.token_sha256`).
    AdminToken,
    /// Print the Cedar schema that policies are validated against (generated from the config).
    PolicySchema {
        /// The config file (YAML).
        #[arg(
            short,
            long,
            env = "PORTCULLIS_CONFIG",
            default_value = "portcullis.yaml"
        )]
        config: PathBuf,
    },
}

/// A 256-bit random admin token and the hash the config holds.
fn admin_token() -> ExitCode {
    let mut bytes = [0u8; 32];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        eprintln!("error: no randomness");
        return ExitCode::from(1);
    }
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let token = format!("pca_{token}");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let hash: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    println!("token:        {token}");
    println!("token_sha256: {hash}");
    println!("Put the hash in the config (admin.token_sha256); the token is shown only now.");
    ExitCode::SUCCESS
}

/// Prints the Cedar schema generated from a config, to write policies against.
fn policy_schema(path: &std::path::Path) -> ExitCode {
    let loaded = match portcullis_config::load_file(path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let operations = match portcullis_policy::cedar::route_operations(&loaded.spec) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let json = portcullis_policy::cedar::schema_json(&loaded.spec, &operations);
    match portcullis_policy::cedar::schema_text(json) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

/// `keys` subcommands.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create a key for a consumer (created if new) and print it once.
    Create {
        /// The consumer's name.
        #[arg(long)]
        consumer: String,
        /// `api-key` (a bearer key) or `hmac` (an id and a secret that signs requests; needs
        /// the master key, `store.master_key_file`).
        #[arg(long, value_enum, default_value = "api-key")]
        kind: KeyKindArg,
        /// Scopes granted to the key (comma-separated or repeated).
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// Validity, e.g. `90d`, `12h`. Default: no expiry.
        #[arg(long)]
        expires: Option<String>,
        /// Client networks allowed to use the key (repeatable).
        #[arg(long = "allow-ip")]
        allow_ip: Vec<String>,
        /// Origins (`https://app.example`) allowed as Origin/Referer (repeatable).
        #[arg(long = "allow-referrer")]
        allow_referrer: Vec<String>,
        /// Route ids the key may call (comma-separated or repeated). Default: any.
        #[arg(long, value_delimiter = ',')]
        routes: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
    },
    /// List keys (never their secrets), optionally of one consumer.
    List {
        /// Only this consumer's keys.
        #[arg(long)]
        consumer: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
    },
    /// Show one key (never its secret): status, expiry, last use.
    Show {
        /// The key id (the part after `pcs_`).
        id: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
    },
    /// Revoke a key: refused from the next request on.
    Revoke {
        /// The key id.
        id: String,
    },
    /// Issue a successor with the same attributes; the old key keeps working for the grace
    /// period, then is refused.
    Rotate {
        /// The key id.
        id: String,
        /// How long the old key stays valid, e.g. `24h`.
        #[arg(long, default_value = "24h")]
        grace: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
    },
    /// TOTP second factor of built-in accounts (seeds sealed under the master key).
    Totp {
        /// What to do with the seed.
        #[command(subcommand)]
        command: accounts::TotpCommand,
    },
}

/// The kind of credential `keys create` issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KeyKindArg {
    /// A bearer API key `pcs_<id>_<secret>`.
    ApiKey,
    /// An HMAC request-signing key: an id and a secret.
    Hmac,
}

/// Output format of `keys` commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// For scripts.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config } => check(&config),
        Command::PolicySchema { config } => policy_schema(&config),
        Command::AdminToken => admin_token(),
        Command::Serve { config } => serve(config),
        Command::Keys { config, command } => keys::run(config.as_deref(), command),
        Command::Sign(args) => sign::run(&args),
        Command::Accounts { config, command } => accounts::run(config.as_deref(), command),
        Command::Tokens { config, command } => match tokens::run(config.as_deref(), command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
    }
}

fn check(path: &std::path::Path) -> ExitCode {
    match portcullis_config::load_file(path) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                println!("{w}");
            }
            // Policies are validated against the schema generated from this config.
            if let Err(e) = portcullis_policy::cedar::PolicyEngine::load(&loaded.spec) {
                for d in &e.0 {
                    eprintln!("error: {d}");
                }
                eprintln!("{}: {} policy error(s)", path.display(), e.0.len());
                return ExitCode::from(1);
            }
            println!(
                "{}: ok ({} warnings)",
                path.display(),
                loaded.warnings.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

/// The quickstart config, compiled in so that `portcullis serve` works with no file at all.
const EMBEDDED_QUICKSTART: &str = include_str!("../../../examples/quickstart.yaml");

fn serve(path: Option<PathBuf>) -> ExitCode {
    let loaded = match &path {
        Some(p) => portcullis_config::load_file(p),
        None => portcullis_config::load_str(
            EMBEDDED_QUICKSTART,
            std::path::Path::new("<embedded quickstart>"),
        ),
    };
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let _log = match portcullis_telemetry::init_logging(&loaded.spec.logging) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("logging: {e}");
            return ExitCode::from(3);
        }
    };
    for w in &loaded.warnings {
        tracing::warn!(diagnostic = %w, "config lint");
    }
    // One process-wide crypto provider: aws-lc-rs (see docs/adr).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::from(3);
        }
    };
    runtime.block_on(async move {
        if path.is_none() {
            tracing::info!("no --config given: serving the embedded quickstart config");
        }
        match portcullis_gateway::Gateway::start(loaded, path.as_deref()).await {
            Ok(gw) => {
                tracing::info!(version = env!("CARGO_PKG_VERSION"), "portcullis ready");
                gw.run_until_signal().await;
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::error!(error = %e, "start-up failed");
                eprintln!("portcullis: {e}");
                ExitCode::from(3)
            }
        }
    })
}
