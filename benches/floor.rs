//! The floor under applying: what SQLite alone needs to give a file's
//! numbers their holders, on the benchmark's directory.
//!
//!     cargo bench --bench floor -- BASE.db ASSIGNMENTS.csv
//!
//! Validates the file as `run` does and keeps, in file order, each row that
//! gives a number (`assign`, `add`, `swap`, `reassign`) to a present,
//! voice-enabled user. Then, on a fresh copy of BASE.db opened as numbatch
//! opens its database, times giving each of those numbers its holder, a
//! prepared `UPDATE` a row (additional for `add`, primary otherwise; a row
//! that would give a user a second primary is skipped),
//! all in ONE transaction, and its commit. That is far less than applying:
//! no lookups for the rules, no outcomes, no audit, one transaction. So no
//! way of applying these rows one by one into this schema can be faster.
//!
//! It is timed for four schemas (numbatch's; without the licensing
//! triggers; without them and the one-primary index, keeping the holder
//! index the rules need; the bare table) and two orders (the file's, which
//! the contract applies in; and sorted by number, the best case for
//! SQLite). `scripts/bench --floor` runs it on the benchmark's workloads.

use numbatch::batch::batches;
use numbatch::model::{Action, Op};
use numbatch::read::{self, Rows};
use numbatch::store::Store;
use numbatch::{pipeline, validate};
use std::path::{Path, PathBuf};
use std::time::Instant;

// The licensing triggers dropped: a macro, so that `concat!` can use it.
macro_rules! no_triggers {
    () => {
        "DROP TRIGGER numbers_holder_licensed; DROP TRIGGER numbers_new_holder_licensed;"
    };
}

/// What each schema drops from numbatch's.
const SCHEMAS: [(&str, &str); 4] = [
    ("numbatch's schema (v4)", ""),
    ("no licensing trigger", no_triggers!()),
    (
        "holder index only",
        concat!(no_triggers!(), "DROP INDEX numbers_one_primary;"),
    ),
    (
        "bare table",
        concat!(
            no_triggers!(),
            "DROP INDEX numbers_one_primary; DROP INDEX numbers_held;"
        ),
    ),
];

/// A row that gives a number: the number, the user, and whether as primary.
type Give = (String, String, bool);

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("{e}");
    std::process::exit(2);
}

/// Each row of the file that gives a number, in file order.
fn gives(file: &Path) -> Vec<Give> {
    let source = read::open(file, None, u64::MAX).unwrap_or_else(|e| fail(e));
    let rows = Rows::new(&source).unwrap_or_else(|e| fail(e));
    let mut out = Vec::new();
    for group in batches(batches(rows, 500), validate::TOGETHER) {
        let group = group.unwrap_or_else(|e| fail(e));
        for row in pipeline::check(&source.layout, group, None)
            .into_iter()
            .flatten()
        {
            if let Ok(Op::Assignment {
                action,
                upn: Some(upn),
                number,
            }) = row.checked
                && action.gives()
            {
                out.push((number, upn, action != Action::Add));
            }
        }
    }
    out
}

/// Seconds to give the rows their holders, one statement a row in one
/// transaction, and how many rows changed a number.
fn floor(base: &Path, rows: &[Give], ddl: &str, by_number: bool) -> rusqlite::Result<(f64, usize)> {
    let copy = PathBuf::from(format!("{}.floor-copy", base.display()));
    let remove = || {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
        }
    };
    remove();
    std::fs::copy(base, &copy).unwrap_or_else(|e| fail(format!("{}: {e}", copy.display())));
    let store = Store::open(&copy).unwrap_or_else(|e| fail(e));
    let conn = &store.conn;
    conn.pragma_update(None, "synchronous", "NORMAL")?; // as applying commits
    conn.execute_batch(ddl)?;
    // Untimed: only rows whose user may hold a number (the others would
    // fail the licensing rule, which applying checks before writing).
    let mut licensed = conn.prepare(
        "SELECT 1 FROM users WHERE upn = ?1 AND removed_at IS NULL AND voice_enabled = 1",
    )?;
    let mut kept: Vec<&Give> = Vec::with_capacity(rows.len());
    for give in rows {
        if licensed.exists([&give.1])? {
            kept.push(give);
        }
    }
    drop(licensed);
    if by_number {
        kept.sort_by(|a, b| a.0.cmp(&b.0)); // stable: file order per number
    }
    let start = Instant::now();
    let tx = conn.unchecked_transaction()?;
    let mut changed = 0;
    {
        let mut give = tx.prepare(
            "UPDATE OR IGNORE numbers SET state = 1, holder = ?2, role = ?3
             WHERE e164 = ?1 AND number_type = 0",
        )?;
        for (number, upn, primary) in kept {
            changed += give.execute(rusqlite::params![number, upn, *primary as i64])?;
        }
    }
    tx.commit()?;
    let spent = start.elapsed().as_secs_f64();
    drop(store);
    remove();
    Ok((spent, changed))
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [base, file] = &args[..] else {
        fail("usage: cargo bench --bench floor -- BASE.db ASSIGNMENTS.csv");
    };
    let (base, file) = (PathBuf::from(base), PathBuf::from(file));
    let rows = gives(&file);
    println!(
        "| a statement a row, one transaction: {} rows giving a number | order | s | rows/s |",
        rows.len()
    );
    println!("|---|---|---:|---:|");
    for (schema, ddl) in SCHEMAS {
        for (order, by_number) in [("file order", false), ("by number", true)] {
            let (spent, changed) = floor(&base, &rows, ddl, by_number).unwrap_or_else(|e| fail(e));
            println!(
                "| {schema} | {order} | {spent:.2} | {:.0} |",
                changed as f64 / spent
            );
        }
    }
}
