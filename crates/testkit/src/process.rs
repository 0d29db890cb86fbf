//! The gateway binary as a child process.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A running `portcullis serve`. Killed on drop.
pub struct GatewayProcess {
    child: Child,
    dir: tempfile::TempDir,
    lines: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    addresses: HashMap<String, SocketAddr>,
}

fn field<'a>(v: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    v.get(name)
        .or_else(|| v.get("fields").and_then(|f| f.get(name)))
}

impl GatewayProcess {
    /// Writes `config` (YAML) to `portcullis.yaml` in a fresh temp dir (with `data_dir`
    /// pointing inside it unless the config sets one) and starts `bin serve`. Waits until
    /// every listener in `expect_listeners` (plus `admin` when enabled) has logged its bound
    /// address and the gateway logged that it is ready.
    pub fn start(bin: &Path, config: &str) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut text = config.to_string();
        if !text.contains("data_dir:") {
            text.push_str(&format!(
                "\ndata_dir: {}\n",
                dir.path().join("data").display()
            ));
        }
        let path = dir.path().join("portcullis.yaml");
        std::fs::write(&path, text)?;
        Self::start_at(bin, dir, &path)
    }

    fn start_at(bin: &Path, dir: tempfile::TempDir, path: &Path) -> anyhow::Result<Self> {
        let mut child = Command::new(bin)
            .arg("serve")
            .arg("--config")
            .arg(path)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("spawning {}", bin.display()))?;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr_lines = Arc::new(Mutex::new(Vec::new()));
        if let Some(out) = child.stdout.take() {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if let Ok(mut l) = lines.lock() {
                        l.push(line);
                    }
                }
            });
        }
        if let Some(err) = child.stderr.take() {
            let lines = stderr_lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if let Ok(mut l) = lines.lock() {
                        l.push(line);
                    }
                }
            });
        }
        let mut gw = Self {
            child,
            dir,
            lines,
            stderr: stderr_lines,
            addresses: HashMap::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut ready = false;
            for line in gw.lines() {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                let msg = field(&v, "message").and_then(|m| m.as_str()).unwrap_or("");
                if msg == "listener bound" {
                    let id = field(&v, "listener").and_then(|m| m.as_str()).unwrap_or("");
                    let addr = field(&v, "address").and_then(|m| m.as_str()).unwrap_or("");
                    if let Ok(a) = addr.parse() {
                        gw.addresses.insert(id.to_string(), a);
                    }
                }
                if msg == "portcullis ready" {
                    ready = true;
                }
            }
            if ready {
                return Ok(gw);
            }
            if let Ok(Some(status)) = gw.child.try_wait() {
                bail!(
                    "gateway exited with {status} before becoming ready\nstdout:\n{}\nstderr:\n{}",
                    gw.lines().join("\n"),
                    gw.stderr_lines().join("\n")
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "gateway not ready within 30 s\nstdout:\n{}",
                    gw.lines().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The bound address of a listener (or `admin`).
    pub fn addr(&self, listener: &str) -> SocketAddr {
        match self.addresses.get(listener) {
            Some(a) => *a,
            None => panic!("no listener `{listener}` in {:?}", self.addresses),
        }
    }

    /// Every stdout line so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Every stderr line so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Access-log records (JSON objects logged with target `portcullis::access`).
    pub fn access_log(&self) -> Vec<serde_json::Value> {
        self.lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v.get("target").and_then(|t| t.as_str()) == Some("portcullis::access"))
            .collect()
    }

    /// Waits until an access-log record satisfies `pred`.
    pub fn wait_access(
        &self,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> Option<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(v) = self.access_log().into_iter().find(|v| pred(v)) {
                return Some(v);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until a stdout line contains `needle`.
    pub fn wait_line(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.lines().iter().any(|l| l.contains(needle)) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The config file path (to rewrite it for reload tests).
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("portcullis.yaml")
    }

    /// The temp dir (data dir is `<dir>/data`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The dev certificate PEM the gateway generated.
    pub fn dev_cert_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("data/dev-tls/cert.pem")).unwrap_or_default()
    }

    /// Sends a signal by name (`HUP`, `TERM`) with the system `kill`.
    pub fn signal(&self, name: &str) {
        let _ = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status();
    }

    /// Waits for the process to exit (after a signal); returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
