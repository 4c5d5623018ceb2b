//! Running a list of listeners together, as `opencapf serve` does.

use std::future::Future;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::Listener;

/// Runs every listener until `shutdown` is cancelled and each has stopped.
pub async fn serve(listeners: Vec<Listener>, shutdown: CancellationToken) {
    let mut running = JoinSet::new();
    for listener in listeners {
        running.spawn(listener.run(shutdown.clone()));
    }
    while let Some(joined) = running.join_next().await {
        if let Err(e) = joined {
            tracing::error!(error = %e, "a listener panicked");
            shutdown.cancel();
        }
    }
}

/// [`serve`] until `signal` completes.
pub async fn serve_until(listeners: Vec<Listener>, signal: impl Future<Output = ()>) {
    let shutdown = CancellationToken::new();
    let run = serve(listeners, shutdown.clone());
    tokio::pin!(run);
    tokio::select! {
        () = &mut run => return,
        () = signal => shutdown.cancel(),
    }
    run.await;
}
