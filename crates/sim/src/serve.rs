//! The accept loop. Each connection carries a kill switch in its requests' extensions, so the
//! `reset` fault can drop the TCP connection (with RST) in the middle of a request, as a flaky
//! network or a crashing upstream would.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tower::ServiceExt as _;

use crate::world::SimState;

/// Handed to handlers: notify it to reset the connection the request came on.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionKill(pub(crate) Arc<Notify>);

pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    state: Arc<std::sync::Mutex<SimState>>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            _ = &mut shutdown => return,
        };
        state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .connections += 1;
        tokio::spawn(connection(stream, app.clone()));
    }
}

async fn connection(stream: TcpStream, app: Router) {
    // A duplicate of the socket, kept to set SO_LINGER=0 (→ RST) when the connection is killed.
    let Ok(std_stream) = stream.into_std() else {
        return;
    };
    let Ok(dup) = std_stream.try_clone() else {
        return;
    };
    let Ok(stream) = TcpStream::from_std(std_stream) else {
        return;
    };
    let kill = Arc::new(Notify::new());
    let kill_for_requests = kill.clone();
    let service = hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
        request
            .extensions_mut()
            .insert(ConnectionKill(kill_for_requests.clone()));
        let app = app.clone();
        async move {
            Ok::<_, Infallible>(
                app.oneshot(request.map(axum::body::Body::new))
                    .await
                    .unwrap_or_else(|e| match e {}),
            )
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        () = kill.notified() => {
            if let Ok(dup) = TcpStream::from_std(dup) {
                // Deprecated because a non-zero linger blocks on drop; zero never blocks.
                #[allow(deprecated)]
                let _ = dup.set_linger(Some(Duration::ZERO));
            }
            // Dropping the connection future closes the socket; with linger 0 that is an RST.
        }
    }
}
