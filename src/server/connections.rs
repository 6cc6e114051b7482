//! Accepting and serving connections, with the time limits `axum::serve` does not set.
//!
//! Each connection is served by hyper's HTTP/1.1 server with a timer, so a client must send a request's head
//! within `server.header_timeout_secs` of the connection becoming ready for one — which also closes
//! idle keep-alive connections and slowloris clients that trickle header bytes. Bodies have
//! their own limit (`body.rs`). On shutdown every connection finishes its in-flight request
//! (graceful shutdown) and the caller bounds how long that may take.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// Accepts connections until `stop` changes, serving each with `router`. Returns a receiver
/// that completes (`closed`) when every connection has ended.
pub async fn accept_until(
    listener: TcpListener,
    router: axum::Router,
    header_timeout: Duration,
    mut stop: watch::Receiver<()>,
) -> watch::Sender<()> {
    // Every connection task holds a receiver; `closed()` on the sender waits for all of them.
    let (open_tx, open_rx) = watch::channel(());
    loop {
        let (tcp, peer) = tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let mut stop = stop.clone();
        let open = open_rx.clone();
        tokio::spawn(async move {
            serve_connection(tcp, peer, router, header_timeout, &mut stop).await;
            drop(open);
        });
    }
    drop(open_rx);
    open_tx
}

async fn serve_connection(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    header_timeout: Duration,
    stop: &mut watch::Receiver<()>,
) {
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let router = router.clone();
        async move {
            let resp = router.oneshot(req.map(axum::body::Body::new)).await;
            Ok::<_, Infallible>(resp.unwrap_or_else(|e| match e {}))
        }
    });
    // HTTP/1.1 only: the SDKs speak it over plain TCP, and a protocol sniffer (hyper-util's
    // `auto`) would wait for the first bytes without any timeout.
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(tcp), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            return;
        }
        _ = stop.changed() => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}
