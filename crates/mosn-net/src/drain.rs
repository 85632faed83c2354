//! The graceful-stop signal: listeners stop accepting, connections finish what they do.

use tokio::sync::watch;

pub struct DrainTrigger(watch::Sender<bool>);

#[derive(Clone)]
pub struct Drain(watch::Receiver<bool>);

pub fn channel() -> (DrainTrigger, Drain) {
    let (tx, rx) = watch::channel(false);
    (DrainTrigger(tx), Drain(rx))
}

impl DrainTrigger {
    pub fn start(&self) {
        self.0.send_replace(true);
    }
}

impl Drain {
    pub fn is_draining(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes once draining has started (at once if it has).
    pub async fn signaled(&mut self) {
        // An error means the trigger is gone: the server is going down, which is draining too.
        let _ = self.0.wait_for(|draining| *draining).await;
    }
}
