//! Where the API-key pepper comes from.

use std::io::Write;
use std::path::Path;

use crate::api_key::Pepper;

/// Environment variable holding the pepper as hex (≥ 64 characters).
pub const PEPPER_ENV: &str = "PORTCULLIS_PEPPER";

fn from_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect()
}

/// Loads the pepper: from `file` if configured; else from `PORTCULLIS_PEPPER`; else from
/// `default_file`, generating 32 random bytes there (mode 0600) on first use.
pub fn load_pepper(file: Option<&Path>, default_file: &Path) -> Result<Pepper, String> {
    if let Some(f) = file {
        let bytes = std::fs::read(f).map_err(|e| format!("pepper file {}: {e}", f.display()))?;
        return Pepper::new(&bytes)
            .ok_or_else(|| format!("pepper file {}: needs at least 32 bytes", f.display()));
    }
    if let Ok(hex) = std::env::var(PEPPER_ENV) {
        let bytes = from_hex(&hex).ok_or_else(|| format!("{PEPPER_ENV}: not hex"))?;
        return Pepper::new(&bytes)
            .ok_or_else(|| format!("{PEPPER_ENV}: needs at least 32 bytes (64 hex characters)"));
    }
    match std::fs::read(default_file) {
        Ok(bytes) => Pepper::new(&bytes).ok_or_else(|| {
            format!(
                "pepper file {}: needs at least 32 bytes",
                default_file.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 32];
            aws_lc_rs::rand::fill(&mut bytes)
                .map_err(|_| "the system random generator failed".to_string())?;
            if let Some(dir) = default_file.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut f = options
                .open(default_file)
                .map_err(|e| format!("pepper file {}: {e}", default_file.display()))?;
            f.write_all(&bytes)
                .map_err(|e| format!("pepper file {}: {e}", default_file.display()))?;
            Pepper::new(&bytes).ok_or_else(|| "pepper".to_string())
        }
        Err(e) => Err(format!("pepper file {}: {e}", default_file.display())),
    }
}
