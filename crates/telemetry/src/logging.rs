//! Logging set-up: JSON lines (or text) on stdout, level from config or `RUST_LOG`.

use portcullis_config::{LogFormat, LoggingSpec};
use tracing_subscriber::EnvFilter;

/// Keeps logging alive; returned by [`init_logging`].
#[derive(Debug)]
pub struct LogGuard(());

/// Installs the global subscriber. Call once, early. The access log shares the stream (one
/// JSON object per line, told apart by `target`), which keeps ordering and lets one
/// collector ship both.
pub fn init_logging(spec: &LoggingSpec) -> Result<LogGuard, String> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&spec.level))
        .map_err(|e| format!("invalid log level `{}`: {e}", spec.level))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .with_target(true);
    let result = match spec.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
    result.map_err(|e| e.to_string())?;
    Ok(LogGuard(()))
}
