//! The accept loop of one listener and the life of one client connection: caps, IP policy at
//! accept time, TLS handshake with a deadline, the HTTP/1 framing sentinel, hyper (HTTP/1.1
//! and HTTP/2) with explicit limits, and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use portcullis_config::{LimitsSpec, ListenerSpec};
use portcullis_framing::{FramingLimits, Sentinel};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::Shared;
use crate::conn_limits::ConnPermit;
use crate::handler::{ConnInfo, handle};

/// A bound listener, ready to run.
pub struct BoundListener {
    /// Its config.
    pub spec: ListenerSpec,
    /// The socket.
    pub tcp: TcpListener,
    /// TLS acceptor state, for TLS listeners.
    pub tls: Option<Arc<portcullis_tls::ServerTls>>,
}

/// Accepts connections until `shutdown`; each connection runs on `tracker`.
pub async fn run(
    bound: BoundListener,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    let listener_id: Arc<str> = bound.spec.id.as_str().into();
    loop {
        let accepted = tokio::select! {
            a = bound.tcp.accept() => a,
            () = shutdown.cancelled() => break,
        };
        let (tcp, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(listener = %listener_id, error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let rt = shared.config.load();
        // Global deny lists apply at accept time to direct peers; a trusted proxy's clients
        // are checked per request, once their address is known.
        if !rt.trusted.contains(peer.ip()) && !rt.global_ip.admits(peer.ip()) {
            shared
                .metrics
                .connection_rejected(&listener_id, "ip_denied");
            continue;
        }
        let permit = match shared.conn_limits.try_acquire(peer.ip()) {
            Ok(p) => p,
            Err(refusal) => {
                shared
                    .metrics
                    .connection_rejected(&listener_id, refusal.label());
                continue;
            }
        };
        let limits = rt.spec.limits.clone();
        drop(rt);
        let conn = Connection {
            shared: shared.clone(),
            listener: listener_id.clone(),
            spec: bound.spec.clone(),
            tls: bound.tls.clone(),
            peer,
            limits,
            shutdown: shutdown.clone(),
            _permit: permit,
        };
        tracker.spawn(conn.serve(tcp));
    }
}

struct Connection {
    shared: Arc<Shared>,
    listener: Arc<str>,
    spec: ListenerSpec,
    tls: Option<Arc<portcullis_tls::ServerTls>>,
    peer: SocketAddr,
    limits: LimitsSpec,
    shutdown: CancellationToken,
    _permit: ConnPermit,
}

impl Connection {
    async fn serve(self, tcp: TcpStream) {
        let _ = tcp.set_nodelay(true);
        let _open = self.shared.metrics.connection_opened(&self.listener);
        let framing = FramingLimits {
            max_head_bytes: self.limits.max_header_bytes,
            max_headers: self.limits.max_headers,
        };
        match self.tls.clone() {
            None => {
                let (io, handle) = Sentinel::new(tcp, framing);
                self.serve_http(io, None, Some(handle), false).await;
            }
            Some(tls) => {
                let acceptor = tls.acceptor();
                let deadline = self.limits.tls_handshake_timeout.get();
                let stream = match portcullis_tls::accept(&acceptor, tcp, deadline).await {
                    Ok(s) => s,
                    Err(e) => {
                        let kind = e.kind.as_str();
                        self.shared
                            .metrics
                            .tls_handshake_failed(&self.listener, kind);
                        tracing::debug!(listener = %self.listener, peer = %self.peer, kind, "TLS handshake failed");
                        return;
                    }
                };
                let info = portcullis_tls::tls_info(stream.get_ref().1);
                let h2 = info.alpn.as_deref() == Some(b"h2");
                let (io, handle) = if h2 {
                    Sentinel::transparent(stream)
                } else {
                    Sentinel::new(stream, framing)
                };
                self.serve_http(io, Some(info), (!h2).then_some(handle), h2)
                    .await;
            }
        }
    }

    async fn serve_http<IO>(
        &self,
        io: IO,
        tls: Option<portcullis_core::TlsInfo>,
        framing: Option<portcullis_framing::FramingHandle>,
        h2: bool,
    ) where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let info = Arc::new(ConnInfo {
            peer: self.peer,
            listener: self.listener.clone(),
            tls,
            framing,
            plain_http: self.spec.plain_http,
            redirect_port: self.spec.redirect_port,
        });
        let shared = self.shared.clone();
        let service = service_fn(move |req| handle(shared.clone(), info.clone(), req));
        // The protocol is known before the first byte: ALPN on TLS, and plain listeners speak
        // HTTP/1 only. No version sniffing, so hyper's header-read timeout runs from the start.
        let mut builder = if h2 {
            auto::Builder::new(TokioExecutor::new()).http2_only()
        } else {
            auto::Builder::new(TokioExecutor::new()).http1_only()
        };
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_read_timeout.get())
            .max_buf_size(self.limits.max_header_bytes.max(8192) * 2)
            .keep_alive(true)
            .half_close(false);
        let max_header_list = u32::try_from(self.limits.max_header_bytes).unwrap_or(u32::MAX);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(self.limits.h2_max_concurrent_streams)
            .max_pending_accept_reset_streams(self.limits.h2_max_pending_reset_streams)
            .max_local_error_reset_streams(self.limits.h2_max_local_error_reset_streams)
            .max_header_list_size(max_header_list)
            .keep_alive_interval(Some(self.limits.idle_timeout.get()))
            .keep_alive_timeout(Duration::from_secs(20));
        let conn = builder.serve_connection(TokioIo::new(io), service);
        tokio::pin!(conn);
        let idle = self.limits.idle_timeout.get();
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(listener = %self.listener, peer = %self.peer, error = %e, "connection ended with error");
                }
            }
            () = self.shutdown.cancelled() => {
                conn.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(idle.max(Duration::from_secs(1)), conn.as_mut()).await;
            }
        }
    }
}
