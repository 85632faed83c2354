//! The two IO models: one work-stealing runtime, or one single-thread runtime per worker with
//! its own accept socket (SO_REUSEPORT when the listener asks for it, else a shared socket).

use std::io;
use std::sync::Arc;

use crate::drain::Drain;
use crate::listener::{BoundSocket, ListenerSpec, serve};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoModel {
    WorkStealing { workers: usize },
    ThreadPerCore { workers: usize },
}

impl IoModel {
    fn workers(self) -> usize {
        match self {
            IoModel::WorkStealing { workers } | IoModel::ThreadPerCore { workers } => {
                workers.max(1)
            }
        }
    }
}

/// A listener bound for an IO model: one socket per accept loop.
pub struct BoundListener {
    pub spec: Arc<ListenerSpec>,
    sockets: Vec<BoundSocket>,
}

impl BoundListener {
    /// Binds now, so that a port in use is reported before anything starts; listens only when
    /// told.
    pub fn bind(spec: Arc<ListenerSpec>, model: IoModel) -> io::Result<BoundListener> {
        let bind = || {
            let socket = BoundSocket::bind(&spec.address, spec.reuseport)?;
            if spec.defer_accept {
                socket.defer_accept()?;
            }
            Ok::<_, io::Error>(socket)
        };
        let mut sockets = vec![bind()?];
        if let IoModel::ThreadPerCore { .. } = model {
            for _ in 1..model.workers() {
                let next = if spec.reuseport && sockets[0].is_tcp() {
                    bind()?
                } else {
                    sockets[0].try_clone()?
                };
                sockets.push(next);
            }
        }
        Ok(BoundListener { spec, sockets })
    }

    /// Starts taking connections on every socket of the listener.
    pub fn listen(&self) -> io::Result<()> {
        self.sockets.iter().try_for_each(BoundSocket::listen)
    }
}

/// The running data plane. Dropping it stops the work-stealing runtime; worker threads of the
/// thread-per-core model live until the process exits.
pub struct Workers {
    _runtime: Option<tokio::runtime::Runtime>,
}

pub fn start(model: IoModel, listeners: Vec<BoundListener>, drain: Drain) -> io::Result<Workers> {
    match model {
        IoModel::WorkStealing { .. } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(model.workers())
                .thread_name("mosn-worker")
                .enable_all()
                .build()?;
            runtime.spawn(keep_a_timer_near());
            for listener in listeners {
                for socket in listener.sockets {
                    runtime.spawn(serve_logged(
                        socket,
                        Arc::clone(&listener.spec),
                        drain.clone(),
                    ));
                }
            }
            Ok(Workers {
                _runtime: Some(runtime),
            })
        }
        IoModel::ThreadPerCore { .. } => {
            let mut per_worker: Vec<Vec<(BoundSocket, Arc<ListenerSpec>)>> =
                (0..model.workers()).map(|_| Vec::new()).collect();
            for listener in listeners {
                for (worker, socket) in listener.sockets.into_iter().enumerate() {
                    per_worker[worker].push((socket, Arc::clone(&listener.spec)));
                }
            }
            for (worker, sockets) in per_worker.into_iter().enumerate() {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                let drain = drain.clone();
                std::thread::Builder::new()
                    .name(format!("mosn-worker-{worker}"))
                    .spawn(move || {
                        runtime.block_on(async move {
                            for (socket, spec) in sockets {
                                tokio::spawn(serve_logged(socket, spec, drain.clone()));
                            }
                            keep_a_timer_near().await
                        })
                    })?;
            }
            Ok(Workers { _runtime: None })
        }
    }
}

/// Keeps a timer at most a second away in the runtime's timer wheel, for as long as it runs.
///
/// tokio's timer driver wakes the runtime's I/O driver (a write to an eventfd) whenever a timer
/// is registered to fire before the wheel's next expiry, even while a worker is running and
/// will see the timer anyway. With only idle timeouts (minutes) in the wheel, every response
/// deadline (seconds) did that: 0.8 eventfd writes per request with a new connection per
/// request. Ticking every second keeps the next expiry within a second, so only a deadline
/// shorter than that wakes the driver.
async fn keep_a_timer_near() -> ! {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
    }
}

async fn serve_logged(socket: BoundSocket, spec: Arc<ListenerSpec>, drain: Drain) {
    if let Err(err) = serve(socket, Arc::clone(&spec), drain).await {
        tracing::error!(listener = %spec.name, "listener stopped: {err}");
    }
}
