//! Mints an ES256 JWT for benchmarks and manual tests:
//! `cargo run -p portcullis-auth --example mint_jwt -- KEY.pem ISSUER AUDIENCE SUBJECT ['{"scope":"a b"}']`
//! (KEY.pem: a PKCS#8 P-256 private key, e.g. `openssl genpkey -algorithm EC -pkeyopt
//! ec_paramgen_curve:P-256`). The token is valid for one day.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [key, iss, aud, sub, rest @ ..] = args.as_slice() else {
        return Err("usage: mint_jwt KEY.pem ISSUER AUDIENCE SUBJECT [EXTRA_CLAIMS_JSON]".into());
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let mut claims = serde_json::json!({
        "iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + 86_400,
    });
    if let Some(extra) = rest.first() {
        let extra: serde_json::Value = serde_json::from_str(extra)?;
        for (k, v) in extra.as_object().ok_or("extra claims must be an object")? {
            claims[k] = v.clone();
        }
    }
    let pem = std::fs::read(key)?;
    let token = encode(
        &Header::new(Algorithm::ES256),
        &claims,
        &EncodingKey::from_ec_pem(&pem)?,
    )?;
    println!("{token}");
    Ok(())
}
