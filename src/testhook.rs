//! A test-only hook: with `NUMBATCH_TEST_ABORT_AFTER_BATCHES=N` set, the
//! process aborts (as a kill -9 would) right after committing its Nth
//! applied batch: the transaction that applies it ends with it, however
//! many batches it holds. The crash tests stop the process at exact points
//! this way. Unset, it does nothing.

use std::sync::atomic::{AtomicU64, Ordering};

static BATCHES: AtomicU64 = AtomicU64::new(0);

/// Read once: the hook is asked after every batch.
fn limit() -> Option<u64> {
    static LIMIT: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::env::var("NUMBATCH_TEST_ABORT_AFTER_BATCHES")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
    })
}

/// Counts an applied batch; true when the test wants the process killed
/// once it commits.
pub fn batch_applied() -> bool {
    let Some(limit) = limit() else {
        return false;
    };
    BATCHES.fetch_add(1, Ordering::SeqCst) + 1 >= limit
}

/// After a commit: aborts if the test asked for it.
pub fn after_commit() {
    if limit().is_some_and(|limit| BATCHES.load(Ordering::SeqCst) >= limit) {
        std::process::abort();
    }
}
