//! A test-only hook: with `NUMBATCH_TEST_ABORT_AFTER_BATCHES=N` set, the
//! process aborts (as a kill -9 would) right after committing its Nth
//! applied batch: the transaction that applies it ends with it, however
//! many batches it holds. `NUMBATCH_TEST_ABORT_AFTER_STORED_BATCHES=N` does
//! the same while a file is stored, before its job is queued. The crash
//! tests stop the process at exact points this way. Unset, they do nothing.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where a hook counts batches.
#[derive(Clone, Copy)]
pub enum Stage {
    Applied,
    Stored,
}

const VARS: [&str; 2] = [
    "NUMBATCH_TEST_ABORT_AFTER_BATCHES",
    "NUMBATCH_TEST_ABORT_AFTER_STORED_BATCHES",
];
static BATCHES: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];

/// Read once: the hook is asked after every batch.
fn limit(stage: Stage) -> Option<u64> {
    static LIMITS: [OnceLock<Option<u64>>; 2] = [const { OnceLock::new() }; 2];
    *LIMITS[stage as usize].get_or_init(|| {
        std::env::var(VARS[stage as usize])
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
    })
}

/// Counts a batch applied or stored; true when the test wants the process
/// killed once it commits.
pub fn batch_done(stage: Stage) -> bool {
    let Some(limit) = limit(stage) else {
        return false;
    };
    BATCHES[stage as usize].fetch_add(1, Ordering::SeqCst) + 1 >= limit
}

/// After a commit: aborts if the test asked for it.
pub fn after_commit(stage: Stage) {
    if limit(stage).is_some_and(|limit| BATCHES[stage as usize].load(Ordering::SeqCst) >= limit) {
        std::process::abort();
    }
}
