//! `portcullis sign`: signs one request with an HMAC signing key so that people with curl (or
//! any HTTP client) can call a route protected by `auth.hmac`. It prints the header to add;
//! `--curl` prints a whole curl command instead. Same code as the gateway's verifier
//! (`portcullis_auth::signing`), so what it prints is what the gateway checks.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use http::{HeaderMap, HeaderName, HeaderValue};
use portcullis_auth::signing;

/// Arguments of `portcullis sign`.
#[derive(clap::Args, Debug)]
pub struct SignArgs {
    /// The signing key's id (from `keys create --kind hmac`).
    #[arg(long)]
    key_id: String,
    /// File holding the key's secret (trailing newline ignored). Never on the command line,
    /// where other users and shell history would see it.
    #[arg(long)]
    secret_file: PathBuf,
    /// HTTP method. Default: POST with `--data`, else GET.
    #[arg(short = 'X', long)]
    method: Option<String>,
    /// A header to send and sign, `name: value` (repeatable). `host` is always signed.
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// The body: a string, or `@file` for a file's bytes.
    #[arg(short = 'd', long)]
    data: Option<String>,
    /// Print a complete curl command instead of the header line.
    #[arg(long)]
    curl: bool,
    /// Use this Unix time instead of now (to reproduce a signature; the gateway accepts only
    /// times within its `max_skew`).
    #[arg(long, hide = true)]
    timestamp: Option<i64>,
    /// Use this nonce instead of a random one (to reproduce a signature; a nonce is accepted
    /// only once).
    #[arg(long, hide = true)]
    nonce: Option<String>,
    /// The URL to call.
    url: String,
}

/// Single-quotes a word for POSIX shells.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The `host` value a client sends for this URL: the authority without a default port.
fn host_of(uri: &http::Uri) -> anyhow::Result<String> {
    let authority = uri.authority().context("the URL needs a host")?;
    let default = match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => bail!("the URL must start with http:// or https://"),
    };
    Ok(match authority.port_u16() {
        Some(p) if Some(p) == default => authority.host().to_string(),
        _ => authority.as_str().to_string(),
    })
}

fn run_inner(args: &SignArgs) -> anyhow::Result<String> {
    let secret = std::fs::read_to_string(&args.secret_file)
        .with_context(|| format!("{}", args.secret_file.display()))?;
    let secret = secret.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        bail!("{}: empty secret", args.secret_file.display());
    }
    let uri: http::Uri = args.url.parse().context("not a URL")?;
    let (body, data_arg) = match args.data.as_deref() {
        None => (Vec::new(), None),
        Some(d) => match d.strip_prefix('@') {
            Some(file) => (
                std::fs::read(file).with_context(|| file.to_string())?,
                Some(format!("--data-binary {}", shell_quote(d))),
            ),
            None => (
                d.as_bytes().to_vec(),
                Some(format!("--data-binary {}", shell_quote(d))),
            ),
        },
    };
    let method = args
        .method
        .clone()
        .unwrap_or_else(|| if args.data.is_some() { "POST" } else { "GET" }.into())
        .to_ascii_uppercase();
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::HOST,
        HeaderValue::from_str(&host_of(&uri)?).context("host")?,
    );
    let mut names = vec!["host".to_string()];
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .with_context(|| format!("`{h}`: write headers as `name: value`"))?;
        let name = HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes())
            .with_context(|| format!("`{name}` is not a header name"))?;
        if name == http::header::AUTHORIZATION || name == http::header::HOST {
            bail!("`{name}` is set by portcullis sign");
        }
        headers.append(
            name.clone(),
            HeaderValue::from_str(value.trim()).context("header value")?,
        );
        names.push(name.as_str().to_string());
    }
    names.sort();
    names.dedup();
    let timestamp = match args.timestamp {
        Some(t) => t,
        None => i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs(),
        )?,
    };
    let nonce = match &args.nonce {
        Some(n) => n.clone(),
        None => signing::new_nonce()?,
    };
    let params = signing::sign(
        secret.as_bytes(),
        &args.key_id,
        &method,
        &uri,
        &headers,
        &names,
        &body,
        timestamp,
        &nonce,
    )
    .map_err(|e| anyhow::anyhow!("cannot sign this request: {e}"))?;
    let authorization = format!("Authorization: {}", params.to_header());
    if !args.curl {
        return Ok(authorization);
    }
    let mut cmd = vec!["curl".to_string(), "-X".into(), method];
    for h in &args.headers {
        cmd.push("-H".into());
        cmd.push(shell_quote(h.trim()));
    }
    cmd.push("-H".into());
    cmd.push(shell_quote(&authorization));
    cmd.extend(data_arg);
    cmd.push(shell_quote(&args.url));
    Ok(cmd.join(" "))
}

/// Runs `portcullis sign`: prints the header (or curl command); exit 1 with a message on
/// failure. The secret is never printed.
pub fn run(args: &SignArgs) -> ExitCode {
    match run_inner(args) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("portcullis sign: {e:#}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_drops_only_the_default_port() {
        let host = |u: &str| host_of(&u.parse().unwrap()).unwrap();
        assert_eq!(host("https://api.example/x"), "api.example");
        assert_eq!(host("https://api.example:443/x"), "api.example");
        assert_eq!(host("https://localhost:8443/x"), "localhost:8443");
        assert_eq!(host("http://api.example:80/"), "api.example");
        assert_eq!(host("http://api.example:443/"), "api.example:443");
        assert!(host_of(&"/relative".parse().unwrap()).is_err());
        assert!(host_of(&"ftp://x/".parse().unwrap()).is_err());
    }

    #[test]
    fn shell_quoting_survives_single_quotes() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
