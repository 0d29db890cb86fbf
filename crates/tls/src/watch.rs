//! Reloading certificates when their files change.
//!
//! Polling, not `notify`: certificates change a few times a year, a one-second poll of a few
//! small files costs nothing, and polling sees every way a file can be replaced (in-place
//! write, rename over it, a Kubernetes secret's `..data` symlink swap, an NFS mount) where
//! inotify needs per-case care. The watcher compares file *contents* (SHA-256), not mtimes,
//! so a copy that preserves the mtime is still noticed.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use aws_lc_rs::digest;

use crate::{ServerTls, TlsError};

/// A running certificate watcher. Dropping it stops the watcher (within one interval at most;
/// in practice at once, since the stop signal wakes it).
#[derive(Debug)]
pub struct CertWatcher {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// One digest per watched file; `None` when the file cannot be read right now.
type Stamp = Vec<Option<Vec<u8>>>;

fn stamp(tls: &ServerTls) -> Stamp {
    tls.files()
        .iter()
        .map(|path| {
            std::fs::read(path)
                .ok()
                .map(|bytes| digest::digest(&digest::SHA256, &bytes).as_ref().to_vec())
        })
        .collect()
}

// === impl CertWatcher ===

impl CertWatcher {
    /// A thread rather than a tokio task: it then needs no runtime to be started from, never
    /// blocks a runtime worker on file I/O, and one thread per TLS listener is cheap.
    pub(crate) fn spawn(tls: ServerTls, interval: Duration) -> Result<Self, TlsError> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("portcullis-tls-watch".to_owned())
            .spawn(move || run(&tls, interval, &stopped))
            .map_err(TlsError::Watcher)?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Stops the watcher and waits for its thread to end.
    pub fn stop(mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            // A panic in the watcher thread would already have been reported by the runtime's
            // panic hook; nothing more to do with it here.
            let _ = thread.join();
        }
    }
}

impl Drop for CertWatcher {
    fn drop(&mut self) {
        // Dropping the sender disconnects the channel, which ends the loop in `run`.
        self.stop.take();
    }
}

/// The watch loop: reload once the files differ from what was last loaded *and* have been
/// stable for one interval (a debounce, so that a writer replacing the certificate and then
/// the key is not caught half-way). A failed reload is logged once and retried only when
/// the files change again, so a broken file does not flood the log.
fn run(tls: &ServerTls, interval: Duration, stopped: &mpsc::Receiver<()>) {
    let mut loaded = stamp(tls);
    let mut pending: Option<Stamp> = None;
    loop {
        match stopped.recv_timeout(interval) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let now = stamp(tls);
        if now == loaded {
            pending = None;
            continue;
        }
        if pending.as_ref() != Some(&now) {
            pending = Some(now);
            continue;
        }
        pending = None;
        match tls.reload() {
            Ok(()) => tracing::info!(
                target: "portcullis::tls",
                certificates = tls.resolver().len(),
                "reloaded TLS certificates after a file change"
            ),
            Err(error) => tracing::warn!(
                target: "portcullis::tls",
                %error,
                "TLS certificate reload failed; still serving the previous certificates"
            ),
        }
        loaded = now;
    }
}
