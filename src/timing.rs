//! Time spent in each pipeline phase, for the benchmark: printed on standard
//! error at exit when `NUMBATCH_TIMINGS` is set. Costs two clock reads per
//! batch otherwise.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(Clone, Copy, Debug)]
pub enum Phase {
    Read,
    Validate,
    Queue,
    Apply,
    Report,
}

const NAMES: [&str; 5] = ["read", "validate", "queue", "apply", "report"];
static NANOS: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];

/// Runs `f`, adding its wall-clock time to `phase`.
pub fn time<T>(phase: Phase, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    NANOS[phase as usize].fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
    out
}

/// Prints the phase times when `NUMBATCH_TIMINGS` is set.
pub fn print_if_asked() {
    if std::env::var_os("NUMBATCH_TIMINGS").is_none() {
        return;
    }
    let parts: Vec<String> = NAMES
        .iter()
        .zip(&NANOS)
        .map(|(name, n)| format!("{name}={:.3}", n.load(Ordering::Relaxed) as f64 / 1e9))
        .collect();
    eprintln!("timings: {}", parts.join(" "));
}
