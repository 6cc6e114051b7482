//! The listening socket: the one systemd passes (`tappass.socket`, `LISTEN_FDS`), else our own.

use std::net::SocketAddr;
use std::os::fd::FromRawFd;

use tokio::net::TcpListener;

/// Where the listener came from (shown in the log and `STATUS=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Passed by systemd socket activation.
    Systemd,
    /// Bound by the daemon to `server.listen`.
    Bound,
}

/// Takes the socket systemd passed (the first of `LISTEN_FDS`; the variables are then removed so
/// no child inherits them). Call on the main thread, before the runtime starts.
pub fn take_activated() -> std::io::Result<Option<std::net::TcpListener>> {
    let mut fds = sd_notify::listen_fds()?;
    let Some(fd) = fds.next() else {
        return Ok(None);
    };
    if fds.len() > 0 {
        tracing::warn!(
            extra = fds.len(),
            "socket activation passed more than one socket: using the first"
        );
    }
    for var in ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"] {
        std::env::remove_var(var);
    }
    // SAFETY: systemd hands this descriptor to us alone (sd_listen_fds(3)); we take ownership.
    let listener = unsafe { std::net::TcpListener::from_raw_fd(fd) };
    // Fails with ENOTSOCK / EINVAL when the descriptor is not a TCP socket.
    listener.local_addr()?;
    listener.set_nonblocking(true)?;
    Ok(Some(listener))
}

/// The activated socket when there is one, else a fresh bind to `addr`.
pub async fn listener(
    activated: Option<std::net::TcpListener>,
    addr: SocketAddr,
) -> std::io::Result<(TcpListener, Origin)> {
    match activated {
        Some(l) => Ok((TcpListener::from_std(l)?, Origin::Systemd)),
        None => Ok((TcpListener::bind(addr).await?, Origin::Bound)),
    }
}
