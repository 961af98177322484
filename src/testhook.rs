//! A test-only hook: with `NUMBATCH_TEST_ABORT_AFTER_BATCHES=N` set, the
//! process aborts (as a kill -9 would) right after committing its Nth batch,
//! so the crash tests can stop it at an exact point. Unset, it does nothing.

use std::sync::atomic::{AtomicU64, Ordering};

static BATCHES: AtomicU64 = AtomicU64::new(0);

pub fn after_batch() {
    let Some(limit) = std::env::var("NUMBATCH_TEST_ABORT_AFTER_BATCHES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    if BATCHES.fetch_add(1, Ordering::SeqCst) + 1 >= limit {
        std::process::abort();
    }
}
