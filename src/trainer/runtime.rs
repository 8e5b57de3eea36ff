//! What a training run changes in the process while it trains, owned by the run and undone when
//! it ends: the allocator's tuning and the compute threads. The game keeps running after a boss
//! fight, so nothing here may outlive the run that set it.

use std::sync::Mutex;

use crate::trainer::run::TrainError;

/// The process-wide settings of one run; dropping it restores the process as it was.
pub struct RunRuntime {
    pool: Option<rayon::ThreadPool>,
    _allocator: AllocatorTuning,
}

impl RunRuntime {
    /// `threads`: how many threads the training kernels may use (`None`: all cores, through the
    /// global pool). A game limits a run on a 2-core machine to one, keeping a core for the window.
    pub fn new(threads: Option<usize>) -> Result<Self, TrainError> {
        let pool = match threads {
            None => None,
            Some(0) => return Err(TrainError::Config("--threads must be at least 1".into())),
            Some(n) => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .thread_name(|i| format!("lora-train-{i}"))
                    .build()
                    .map_err(|e| TrainError::Config(format!("cannot start {n} compute threads: {e}")))?,
            ),
        };
        Ok(Self { pool, _allocator: AllocatorTuning::acquire() })
    }

    /// Runs `f` on this run's compute threads: every kernel's `par_iter` and every product split
    /// inside it uses them (candle's own element-wise pool is process-wide and is not limited).
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }
}

/// glibc serves every allocation above its dynamic mmap threshold with a fresh `mmap` and
/// returns it with `munmap`, so each step's activations and gradients (MiBs each) were
/// page-faulted and zeroed again: ~1/3 of a training step was kernel time (perf). While a run
/// lives, blocks up to 32 MiB (glibc's maximum threshold) stay in the heap, untrimmed; when the
/// last run ends the defaults come back and the heap is trimmed.
struct AllocatorTuning;

/// How many runs hold the tuning (a game may start a second run before the first one ends).
static TUNED_RUNS: Mutex<usize> = Mutex::new(0);

impl AllocatorTuning {
    fn acquire() -> Self {
        let mut runs = TUNED_RUNS.lock().unwrap_or_else(|e| e.into_inner());
        if *runs == 0 {
            glibc::tune_for_training(true);
        }
        *runs += 1;
        AllocatorTuning
    }
}

impl Drop for AllocatorTuning {
    fn drop(&mut self) {
        let mut runs = TUNED_RUNS.lock().unwrap_or_else(|e| e.into_inner());
        *runs -= 1;
        if *runs == 0 {
            glibc::tune_for_training(false);
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
        fn malloc_trim(pad: usize) -> i32;
    }
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_MMAP_THRESHOLD: i32 = -3;
    /// glibc's initial values of both thresholds.
    const DEFAULT_THRESHOLD: i32 = 128 * 1024;

    pub fn tune_for_training(on: bool) {
        // SAFETY: mallopt and malloc_trim only change allocator tuning; glibc serialises them.
        unsafe {
            if on {
                mallopt(M_MMAP_THRESHOLD, 32 << 20);
                mallopt(M_TRIM_THRESHOLD, 1 << 30);
            } else {
                mallopt(M_MMAP_THRESHOLD, DEFAULT_THRESHOLD);
                mallopt(M_TRIM_THRESHOLD, DEFAULT_THRESHOLD);
                malloc_trim(0);
            }
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod glibc {
    pub fn tune_for_training(_on: bool) {}
}

/// (current, peak) resident memory of this process in bytes; zeros where unknown.
pub fn process_memory() -> (u64, u64) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return (0, 0);
    };
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
