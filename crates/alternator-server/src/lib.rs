//! # alternator-server
//!
//! The HTTP recommendation service behind `alternator serve`: JSON endpoints over a trained
//! Alternator model, hot reload, Prometheus metrics, and an in-repo load generator.
//!
//! | endpoint | what |
//! |---|---|
//! | `GET /v1/recommend?user=ID&n=10[&include_seen=true]` | top-N for a known user |
//! | `POST /v1/recommend` `{"liked": [...]}` / `{"liked": {"ID": v}}` / `{"liked_titles": [...]}` | fold-in of a new user |
//! | `GET /v1/similar?item=ID&n=10` (or `user=ID`) | cosine-similar items (users) |
//! | `POST /v1/predict` `[{"user": .., "item": ..}, ...]` | scores, `null` for unknown pairs |
//! | `GET /healthz`, `GET /v1/model`, `GET /metrics` | health, model facts, Prometheus text |
//! | `POST /v1/admin/reload` | re-read the model file (needs the admin token) |
//!
//! Scoring runs on the rayon pool, never on the async reactor. Each request takes a snapshot
//! (`Arc`) of the current model when it starts; a reload swaps the `Arc`, so requests in
//! flight finish on the old model and none fail. Connections are HTTP/1.1 (hyper) with a
//! header-read timeout, every request has a time limit, and bodies a size limit.
#![deny(missing_docs)]

pub mod api;
pub mod loadgen;
pub mod metrics;

use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

pub use api::{Config, Loaded, ReloadOutcome, Service};

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;

/// How the HTTP server runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Threads of the async (network) runtime; scoring uses the global rayon pool.
    pub io_threads: usize,
    /// Most open connections; further connections get a 503 and are closed at once.
    pub max_connections: usize,
    /// Time a client has to send a request's headers (also closes idle keep-alive connections).
    pub header_timeout: Duration,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
    /// React to SIGHUP (reload), SIGINT and SIGTERM (shut down).
    pub handle_signals: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            io_threads: 2,
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            handle_signals: true,
        }
    }
}

/// Serves `service` on an already bound `listener` until SIGINT/SIGTERM (when
/// `opts.handle_signals`), blocking the calling thread. SIGHUP reloads the model (a model that
/// does not load leaves the old one serving; the outcome is printed on stderr).
pub fn run(service: Service, listener: TcpListener, opts: RunOptions) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.io_threads.max(1))
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let shutdown = shutdown_signal(opts.handle_signals);
        serve(service, listener, opts, shutdown).await
    })
}

/// Completes on SIGINT or SIGTERM (never when `enabled` is false).
async fn shutdown_signal(enabled: bool) {
    if !enabled {
        return std::future::pending().await;
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(mut i), Ok(mut t)) => {
                tokio::select! {
                    _ = i.recv() => {}
                    _ = t.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Completes on each SIGHUP (never on other platforms or when disabled).
struct Hangup {
    #[cfg(unix)]
    sig: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn new(enabled: bool) -> Hangup {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Hangup { sig: if enabled { signal(SignalKind::hangup()).ok() } else { None } }
        }
        #[cfg(not(unix))]
        {
            let _ = enabled;
            Hangup {}
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(s) = &mut self.sig {
            if s.recv().await.is_some() {
                return;
            }
        }
        std::future::pending::<()>().await
    }
}

/// Answers a connection over the cap with `503 Service Unavailable` (JSON, `connection: close`)
/// without reading its request, then closes it. Bounded in time: a client that does not read
/// is dropped after a second.
async fn refuse(mut stream: tokio::net::TcpStream, cap: usize) {
    use tokio::io::AsyncWriteExt;
    let body = format!(
        "{{\"error\":\"too many open connections (the cap is {cap}); retry shortly\",\"code\":\"overloaded\",\"status\":503}}"
    );
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}

/// The accept loop: serves connections on `listener` until `shutdown` completes, then waits
/// up to `opts.shutdown_grace` for requests in flight.
pub async fn serve(
    service: Service,
    listener: tokio::net::TcpListener,
    opts: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let router = service.router();
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(opts.max_connections.max(1)));
    let mut hup = Hangup::new(opts.handle_signals);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = hup.recv() => {
                let s = service.clone();
                tokio::spawn(async move {
                    let path = s.config().model_path.display().to_string();
                    match s.reload().await {
                        Ok(o) => eprintln!("SIGHUP: reloaded {path} (checksum {} → {})", o.previous_checksum, o.checksum),
                        Err(e) => eprintln!("SIGHUP: reload failed, still serving checksum {}: {e}", s.current().checksum_hex()),
                    }
                });
            }
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // e.g. too many open files: back off instead of spinning.
                        eprintln!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                    // Over the cap: a fast, explicit 503 rather than a silent drop, so that
                    // a client can tell a busy server from a dead one and retry.
                    tokio::spawn(refuse(stream, opts.max_connections));
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let svc = TowerToHyperService::new(router.clone());
                let mut builder = hyper::server::conn::http1::Builder::new();
                builder
                    .timer(TokioTimer::new())
                    .header_read_timeout(Some(opts.header_timeout))
                    .keep_alive(true);
                let conn = builder.serve_connection(TokioIo::new(stream), svc);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                    drop(permit);
                });
            }
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(opts.shutdown_grace) => {
            eprintln!("shutdown: gave up waiting for open connections after {:?}", opts.shutdown_grace);
        }
    }
    Ok(())
}
