//! The small text forms used by limits: rates (`100/1m`) and key parts (`header:x-tenant`).

use std::time::Duration;

/// One part of a limit key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyPart {
    /// The authenticated consumer.
    Consumer,
    /// The credential (API key id, token `jti`).
    Credential,
    /// The client IP (after trusted-proxy resolution).
    Ip,
    /// The route.
    Route,
    /// A request header's value (lower-cased name).
    Header(String),
}

/// Parses `consumer`, `credential`, `ip`, `route` or `header:<name>`.
pub fn parse_key(text: &str) -> Result<KeyPart, String> {
    match text {
        "consumer" => Ok(KeyPart::Consumer),
        "credential" => Ok(KeyPart::Credential),
        "ip" => Ok(KeyPart::Ip),
        "route" => Ok(KeyPart::Route),
        _ => match text.strip_prefix("header:") {
            Some(h) if http::HeaderName::from_bytes(h.as_bytes()).is_ok() => {
                Ok(KeyPart::Header(h.to_ascii_lowercase()))
            }
            _ => Err(format!(
                "`{text}` is not a key part: use consumer, credential, ip, route or header:<name>"
            )),
        },
    }
}

/// Parses `<count>/<period>`: `10/s`, `100/1m`, `5000/1h`, `20/10s`, `1000/1d`.
pub fn parse_rate(text: &str) -> Result<(u32, Duration), String> {
    let bad =
        || format!("`{text}` is not a rate: write `<count>/<period>`, e.g. `100/1m` or `10/s`");
    let (count, period) = text.split_once('/').ok_or_else(bad)?;
    let count: u32 = count.trim().parse().map_err(|_| bad())?;
    if count == 0 {
        return Err(format!("`{text}`: the count must be at least 1"));
    }
    let period = period.trim();
    let period = if period.starts_with(|c: char| c.is_ascii_digit()) {
        humantime::parse_duration(period).map_err(|_| bad())?
    } else {
        humantime::parse_duration(&format!("1{period}")).map_err(|_| bad())?
    };
    if period.is_zero() || period > Duration::from_secs(31 * 86_400) {
        return Err(format!(
            "`{text}`: the period must be between 1ns and 31 days"
        ));
    }
    Ok((count, period))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("10/s"), Ok((10, Duration::from_secs(1))));
        assert_eq!(parse_rate("100/1m"), Ok((100, Duration::from_secs(60))));
        assert_eq!(parse_rate("20/10s"), Ok((20, Duration::from_secs(10))));
        assert_eq!(parse_rate("5 / h"), Ok((5, Duration::from_secs(3600))));
        assert!(parse_rate("0/s").is_err());
        assert!(parse_rate("ten/s").is_err());
        assert!(parse_rate("10").is_err());
        assert!(parse_rate("10/fortnight").is_err());
        assert!(parse_rate("10/0s").is_err());
    }

    #[test]
    fn keys() {
        assert_eq!(parse_key("ip"), Ok(KeyPart::Ip));
        assert_eq!(
            parse_key("header:X-Tenant"),
            Ok(KeyPart::Header("x-tenant".into()))
        );
        assert!(parse_key("header:bad header").is_err());
        assert!(parse_key("user").is_err());
    }
}
