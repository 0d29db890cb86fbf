//! Hot reload (SIGHUP and config-file changes) and termination signals.
//!
//! A reload loads and validates the file exactly as `portcullis check` does, compiles it, and
//! only then swaps it in. Any error leaves the running version untouched and is logged and
//! counted. Changes to listeners, connection caps and the admin address need a restart; the
//! reload says so in the log and applies everything else.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::Shared;
use crate::runtime::RuntimeConfig;

/// Reloads the config file now. Returns the new version, or the error that kept the old one.
pub async fn reload_now(shared: &Arc<Shared>) -> Result<u64, String> {
    let Some(path) = shared.config_path.clone() else {
        tracing::warn!("serving the embedded config: nothing to reload");
        return Err("no config file".into());
    };
    let loaded = tokio::task::spawn_blocking(move || portcullis_config::load_file(&path))
        .await
        .map_err(|e| e.to_string())?;
    let result = match loaded {
        Err(e) => Err(e.to_string()),
        Ok(loaded) => {
            let version = shared.version.load(Ordering::SeqCst) + 1;
            let old = shared.config.load();
            if !same_listeners(&old.spec, &loaded.spec) {
                tracing::warn!(
                    "listener, admin or connection-cap changes take effect only after a restart"
                );
            }
            match RuntimeConfig::compile(loaded.spec, version, shared.services.as_ref()) {
                Ok(rt) => {
                    shared.config.store(Arc::new(rt));
                    shared.version.store(version, Ordering::SeqCst);
                    Ok(version)
                }
                Err(e) => Err(e.to_string()),
            }
        }
    };
    match &result {
        Ok(v) => {
            shared.metrics.config_loaded(*v, true);
            tracing::info!(config_version = v, "config reloaded");
        }
        Err(e) => {
            shared
                .metrics
                .config_loaded(shared.version.load(Ordering::SeqCst), false);
            tracing::error!(error = %e, "config reload refused; the previous config keeps serving");
        }
    }
    result
}

fn same_listeners(a: &portcullis_config::ConfigSpec, b: &portcullis_config::ConfigSpec) -> bool {
    let key = |s: &portcullis_config::ConfigSpec| {
        (
            s.listeners
                .iter()
                .map(|l| (l.id.clone(), l.address))
                .collect::<Vec<_>>(),
            s.admin.address,
            s.limits.max_connections,
            s.limits.max_connections_per_ip,
        )
    };
    key(a) == key(b)
}

/// Reloads on SIGHUP and when the config file or a policy file changes (their directories
/// are watched, since editors replace files; events are debounced by 250 ms and a reload
/// happens only if the content changed). Policy files in a directory first named by a
/// reload are picked up on the next SIGHUP or config change.
pub async fn watch(shared: Arc<Shared>, shutdown: CancellationToken) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    let _watcher = file_watcher(&shared, tx);
    // The config and the policy files it names: a change to either reloads.
    let read = |s: &Shared| {
        let mut bytes = s.config_path.as_ref().and_then(|p| std::fs::read(p).ok())?;
        for f in watched_files(&s.config.load().spec) {
            bytes.push(0);
            bytes.extend(std::fs::read(f).unwrap_or_default());
        }
        Some(bytes)
    };
    let mut last = read(&shared);
    #[cfg(unix)]
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    loop {
        #[cfg(unix)]
        let hup_fut = async {
            match hup.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let hup_fut = std::future::pending::<()>();
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = hup_fut => {
                tracing::info!("SIGHUP: reloading config");
                let _ = reload_now(&shared).await;
                last = read(&shared);
            }
            Some(()) = rx.recv() => {
                tokio::time::sleep(Duration::from_millis(250)).await;
                while rx.try_recv().is_ok() {}
                let now = read(&shared);
                if now.is_some() && now != last {
                    tracing::info!("config file changed: reloading");
                    let _ = reload_now(&shared).await;
                    last = now;
                }
            }
        }
    }
}

fn file_watcher(
    shared: &Shared,
    tx: tokio::sync::mpsc::Sender<()>,
) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let path = shared.config_path.clone()?;
    let mut files = vec![path];
    files.extend(watched_files(&shared.config.load().spec));
    let dir_of = |p: &std::path::Path| {
        p.parent()
            .map(std::path::Path::to_path_buf)
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or_else(|| ".".into())
    };
    let mut dirs: Vec<std::path::PathBuf> = files.iter().map(|f| dir_of(f)).collect();
    dirs.sort();
    dirs.dedup();
    let names: Vec<std::ffi::OsString> = files
        .iter()
        .filter_map(|f| f.file_name().map(std::ffi::OsStr::to_os_string))
        .collect();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && event.paths.iter().any(|p| {
                p.file_name()
                    .is_some_and(|n| names.iter().any(|w| w.as_os_str() == n))
            })
        {
            let _ = tx.try_send(());
        }
    })
    .map_err(
        |e| tracing::warn!(error = %e, "config file watching unavailable; SIGHUP still reloads"),
    )
    .ok()?;
    for dir in &dirs {
        watcher
            .watch(dir, notify::RecursiveMode::NonRecursive)
            .map_err(|e| tracing::warn!(error = %e, "config file watching unavailable; SIGHUP still reloads"))
            .ok()?;
    }
    Some(watcher)
}

/// Files besides the config whose change reloads it: policies, tier lists, the GeoIP database.
fn watched_files(spec: &portcullis_config::ConfigSpec) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    if let Some(p) = &spec.policies {
        files.extend(p.files.iter().cloned());
    }
    for t in &spec.tiers {
        files.extend(t.ip_files.iter().cloned());
    }
    if let Some(g) = &spec.geoip {
        files.push(g.database.clone());
    }
    files
}

/// Waits for SIGTERM or SIGINT.
pub async fn wait_for_termination(_shared: &Shared) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        match (term, int) {
            (Ok(mut t), Ok(mut i)) => {
                tokio::select! {
                    _ = t.recv() => tracing::info!("SIGTERM received"),
                    _ = i.recv() => tracing::info!("SIGINT received"),
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
