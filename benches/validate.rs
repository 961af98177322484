//! The validate phase alone, on 1 and on 2 threads:
//!
//!     cargo bench --bench validate -- FILE.csv
//!
//! Reads the whole file into batches of 500 first (so that reading and
//! storing play no part), then validates them as the pipeline does,
//! `validate::TOGETHER` batches per call of `pipeline::check`, in a rayon
//! pool of 1 thread and of 2. Each pool is new, so its first pass
//! pays the per-thread set-up (a copy of the phone-number metadata); then
//! passes alternate between the pools, and the best of five further passes
//! of each is its steady state. `scripts/bench` runs
//! it and prints the speed-up.

use numbatch::batch::batches;
use numbatch::read::{self, RawRow, Rows};
use numbatch::{pipeline, validate};
use std::path::PathBuf;
use std::time::Instant;

/// Timed passes on each pool after the first.
const PASSES: usize = 5;

/// The pools compared, by their number of threads.
const THREADS: [usize; 2] = [1, 2];

fn main() {
    let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: cargo bench --bench validate -- FILE.csv");
        std::process::exit(2);
    };
    let source = match read::open(&PathBuf::from(&path), None, u64::MAX) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let rows = match Rows::new(&source) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let all: Vec<Vec<RawRow>> = match batches(rows, 500).collect() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let n: usize = all.iter().map(Vec::len).sum();
    let pools: Vec<rayon::ThreadPool> = THREADS
        .iter()
        .map(|&threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap_or_else(|e| {
                    eprintln!("{e}");
                    std::process::exit(3);
                })
        })
        .collect();
    let pass = |pool: &rayon::ThreadPool| {
        let mut spent = 0.0;
        let mut failed = 0;
        pool.install(|| {
            for group in all.chunks(validate::TOGETHER) {
                // Cloned outside the clock: the pipeline hands the
                // validator rows it owns.
                let group = group.to_vec();
                let start = Instant::now();
                let checked = pipeline::check(&source.layout, group, None);
                spent += start.elapsed().as_secs_f64();
                failed += checked
                    .iter()
                    .flatten()
                    .filter(|r| r.checked.is_err())
                    .count();
            }
        });
        (spent, failed)
    };
    // The first pass of each pool pays its set-up; then passes alternate
    // between the pools, so that a busy moment of a shared machine does not
    // fall on one side only, and the best of each is its steady state.
    let first: Vec<(f64, usize)> = pools.iter().map(pass).collect();
    let mut best = [f64::INFINITY; 2];
    for _ in 0..PASSES {
        for (b, pool) in best.iter_mut().zip(&pools) {
            *b = b.min(pass(pool).0);
        }
    }
    for (i, threads) in THREADS.iter().enumerate() {
        let (cold, failed) = first[i];
        println!(
            "validate {n} rows on {threads} thread(s): first pass {cold:.3} s, then {:.3} s ({:.2} us/row; {failed} rows fail a check)",
            best[i],
            best[i] * 1e6 / n as f64
        );
    }
    println!(
        "validation speed-up on 2 threads: {:.2}x",
        best[0] / best[1]
    );
}
