//! The `portcullis` binary: command line, wiring and exit codes.
//!
//! Exit codes: 0 success; 1 invalid configuration (`check`, or `serve` refusing to start on
//! a bad config); 2 usage errors (clap); 3 a start-up failure other than the config (a port
//! in use, unreadable certificate).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config } => check(&config),
        Command::Serve { config } => serve(config),
    }
}

fn check(path: &std::path::Path) -> ExitCode {
    match portcullis_config::load_file(path) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                println!("{w}");
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
