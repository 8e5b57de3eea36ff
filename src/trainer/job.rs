//! A background job of the trainer's — a training run, a round of answers — as the game and the
//! CLI hold it: events over a channel, a cancel flag, the result when its thread ends.
//! It can live in a game's resource (`Send + Sync`); dropping it cancels the job and waits for
//! its thread, so leaving a screen or quitting stops it cleanly.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// The error of a job whose thread panicked.
pub trait Panicked {
    fn panicked() -> Self;
}

pub struct Job<E, R, Err> {
    events: Mutex<Receiver<E>>,
    cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<R, Err>>>,
}

impl<E: Send + 'static, R: Send + 'static, Err: Panicked + Send + 'static> Job<E, R, Err> {
    /// Runs `work(events, cancel)` on a thread named `name`.
    pub fn spawn(name: &str, work: impl FnOnce(&Sender<E>, &AtomicBool) -> Result<R, Err> + Send + 'static) -> Self {
        let (tx, rx) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || work(&tx, &flag))
            .unwrap_or_else(|e| panic!("spawning the {name} thread: {e}"));
        Self { events: Mutex::new(rx), cancel, thread: Some(thread) }
    }

    /// Every event until the job ends (blocks meanwhile).
    pub fn events(&self) -> impl Iterator<Item = E> + '_ {
        std::iter::from_fn(|| self.receiver().recv().ok())
    }

    /// The events reported since the last call, without waiting (one game frame's worth).
    pub fn try_events(&self) -> Vec<E> {
        self.receiver().try_iter().collect()
    }

    /// The next event, waiting at most `timeout`; `None` when there was none in time or the job ended.
    pub fn next_event(&self, timeout: std::time::Duration) -> Option<E> {
        self.receiver().recv_timeout(timeout).ok()
    }

    /// Asks the job to stop at its next check.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// Whether the job's thread has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Waits for the job and returns its result.
    pub fn join(mut self) -> Result<R, Err> {
        self.wait()
    }

    fn wait(&mut self) -> Result<R, Err> {
        match self.thread.take() {
            Some(t) => t.join().unwrap_or_else(|_| Err(Err::panicked())),
            None => Err(Err::panicked()),
        }
    }

    fn receiver(&self) -> MutexGuard<'_, Receiver<E>> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<E, R, Err> Drop for Job<E, R, Err> {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.cancel.store(true, Ordering::SeqCst);
            let _ = t.join();
        }
    }
}
