//! The floor under applying: what SQLite alone needs to give a file's
//! numbers their holders, on the benchmark's directory.
//!
//!     cargo bench --bench floor -- BASE.db ASSIGNMENTS.csv
//!
//! Validates the file as `run` does and keeps, in file order, each row that
//! gives a number (`assign`, `add`, `swap`, `reassign`) to a present,
//! voice-enabled user. Then, on a fresh copy of BASE.db opened as numbatch
//! opens its database, times ONE statement that gives all those numbers
//! their holders (`UPDATE numbers ... FROM` a table of the rows) and its
//! commit. That is far less than applying: no lookups for the rules, no
//! outcomes, no audit, no statement per row, one transaction. So no way of
//! applying these rows into this schema can be faster than this.
//!
//! It is timed for three schemas (numbatch's; without the licensing
//! triggers and the one-primary index, keeping the holder index the rules
//! need; the bare table) and two orders (the file's, which the contract
//! applies in; and sorted by number, the best case for SQLite).
//! `scripts/bench --floor` runs it on the benchmark's workloads.

use numbatch::batch::batches;
use numbatch::model::Op;
use numbatch::read::{self, Rows};
use numbatch::store::Store;
use numbatch::{pipeline, validate};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What each schema drops from numbatch's.
const SCHEMAS: [(&str, &str); 3] = [
    ("numbatch's schema (v4)", ""),
    (
        "holder index only",
        "DROP TRIGGER numbers_holder_licensed;
         DROP TRIGGER numbers_new_holder_licensed;
         DROP INDEX numbers_one_primary;",
    ),
    (
        "bare table",
        "DROP TRIGGER numbers_holder_licensed;
         DROP TRIGGER numbers_new_holder_licensed;
         DROP INDEX numbers_one_primary;
         DROP INDEX numbers_held;",
    ),
];

/// The rows, in the order the statement reads them (`given`'s rowid).
const ORDERS: [(&str, &str); 2] = [("file order", "n"), ("by number", "e164, n")];

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("{e}");
    std::process::exit(2);
}

/// Each row of the file that gives a number: (number, user), in file order.
fn gives(file: &Path) -> Vec<(String, String)> {
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
                out.push((number, upn));
            }
        }
    }
    out
}

/// Seconds to give the rows their holders in one statement, and how many
/// numbers it changed.
fn floor(
    base: &Path,
    rows: &[(String, String)],
    ddl: &str,
    order: &str,
) -> rusqlite::Result<(f64, usize)> {
    let copy = base.with_file_name("floor.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
    }
    std::fs::copy(base, &copy).unwrap_or_else(|e| fail(format!("{}: {e}", copy.display())));
    let store = Store::open(&copy).unwrap_or_else(|e| fail(e));
    let conn = &store.conn;
    conn.pragma_update(None, "synchronous", "NORMAL")?; // as applying commits
    conn.execute_batch(ddl)?;
    conn.execute_batch(
        "CREATE TEMP TABLE given_in (n INTEGER PRIMARY KEY, e164 TEXT, holder TEXT);
         CREATE TEMP TABLE given (e164 TEXT, holder TEXT);",
    )?;
    {
        let tx = conn.unchecked_transaction()?;
        let mut insert = tx.prepare(
            "INSERT INTO given_in (e164, holder) SELECT ?1, ?2
             WHERE EXISTS (SELECT 1 FROM users
                           WHERE upn = ?2 AND removed_at IS NULL AND voice_enabled = 1)",
        )?;
        for (number, upn) in rows {
            insert.execute([number, upn])?;
        }
        drop(insert);
        // A number given twice keeps its last holder, as in file order.
        tx.execute_batch(&format!(
            "INSERT INTO given SELECT e164, holder FROM given_in
             WHERE n IN (SELECT max(n) FROM given_in GROUP BY e164) ORDER BY {order};"
        ))?;
        tx.commit()?;
    }
    let start = Instant::now();
    let tx = conn.unchecked_transaction()?;
    let changed = tx.execute(
        "UPDATE numbers SET state = 1, holder = given.holder, role = 0
         FROM given WHERE numbers.e164 = given.e164 AND numbers.number_type = 0",
        [],
    )?;
    tx.commit()?;
    let spent = start.elapsed().as_secs_f64();
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
    }
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
        "| one statement giving {} rows' numbers | order | s | rows/s |",
        rows.len()
    );
    println!("|---|---|---:|---:|");
    for (schema, ddl) in SCHEMAS {
        for (order_name, order) in ORDERS {
            let (spent, changed) = floor(&base, &rows, ddl, order).unwrap_or_else(|e| fail(e));
            println!(
                "| {schema} | {order_name} | {spent:.2} | {:.0} |",
                changed as f64 / spent
            );
        }
    }
}
