//! The SQLite database: connection set-up, migrations, and the directory
//! (users, numbers, audit). Every SQL statement lives here or in `queue`.

pub mod directory;

use crate::error::{Error, Result};
use rusqlite::{CachedStatement, Connection, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Schema migrations, applied in order; `PRAGMA user_version` counts them.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_init.sql"),
    include_str!("migrations/002_lean_indexes.sql"),
    include_str!("migrations/003_compact_numbers.sql"),
    include_str!("migrations/004_one_holder_check.sql"),
];

/// How long one write transaction goes on taking whole batches before it
/// commits. Committing every batch wrote the same pages (interior pages, the
/// tails of the queue and of the audit) again and again: applying 100k rows
/// took 3.4 s committing every batch, 2.4 s committing every ten thousand
/// rows. A large directory's pages are written once per commit that touched
/// them, so longer transactions write fewer: applying 1M rows 33.1 s and
/// 31.2 s at a quarter of a second, 30.6 s and 30.0 s at one second (two
/// alternated pairs; 100k rows the same). Another process waits at most
/// about this long for the write lock, and a crash loses at most this much
/// work (which `resume` does again).
pub const COMMIT_EVERY: Duration = Duration::from_secs(1);

/// Whole batches written in transactions of about `COMMIT_EVERY`, for
/// storing a file and for applying its rows: `begin` before a batch,
/// `due`, then `commit`, after it, and `commit` at the end.
/// Dropped with a transaction open (an error part-way), it rolls that one
/// back.
///
/// While it lives, its commits do not wait for the disk
/// (`synchronous = NORMAL`): each is still atomic and survives a crash or a
/// kill, but a power cut may take back the last ones, and their rows are
/// then pending again, for `resume`. The next commit after it (the job
/// queued, done or released) waits for the disk as every other does
/// (`synchronous = FULL`), and with it everything before. Measured, runs
/// of the two builds alternated: applying 100k rows 1.86 s -> 1.77 s, a run
/// of 1M rows 68.3 s -> 63.7 s (medians).
pub struct Grouped<'c> {
    conn: &'c Connection,
    open_since: Option<Instant>,
}

impl<'c> Grouped<'c> {
    pub fn new(conn: &'c Connection) -> Result<Grouped<'c>> {
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(Grouped {
            conn,
            open_since: None,
        })
    }

    /// The connection, inside a write transaction.
    pub fn begin(&mut self) -> Result<&'c Connection> {
        if self.open_since.is_none() {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.open_since = Some(Instant::now());
        }
        Ok(self.conn)
    }

    pub fn is_open(&self) -> bool {
        self.open_since.is_some()
    }

    /// Whether the open transaction has gone on for `COMMIT_EVERY`.
    pub fn due(&self) -> bool {
        self.open_since.is_some_and(|t| t.elapsed() >= COMMIT_EVERY)
    }

    pub fn commit(&mut self) -> Result<()> {
        if self.open_since.is_some() {
            // Marked closed only once committed: if COMMIT fails (a full
            // disk), dropping this rolls back, and the connection is left
            // with no transaction open (the watcher goes on using it).
            self.conn.execute_batch("COMMIT")?;
            self.open_since = None;
        }
        Ok(())
    }
}

impl Drop for Grouped<'_> {
    fn drop(&mut self) {
        if self.open_since.is_some() {
            // Best effort: closing the connection rolls back anyway.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        // Best effort too: a connection this fails on is one that can no
        // longer commit anything.
        let _ = self.conn.pragma_update(None, "synchronous", SYNCHRONOUS);
    }
}

/// Statements prepared once for as long as this lives (a batch), found again
/// by the address of their SQL text. The connection's own statement cache
/// hashes the whole text at every use: about 6% of applying a row.
pub struct Prepared<'c> {
    conn: &'c Connection,
    statements: Vec<(&'static str, CachedStatement<'c>)>,
}

impl<'c> Prepared<'c> {
    pub fn new(conn: &'c Connection) -> Prepared<'c> {
        Prepared {
            conn,
            statements: Vec::new(),
        }
    }

    /// The statement of `sql` (a constant), prepared on first use.
    pub fn get(&mut self, sql: &'static str) -> Result<&mut CachedStatement<'c>> {
        let i = match self
            .statements
            .iter()
            .position(|(s, _)| std::ptr::eq(*s, sql))
        {
            Some(i) => i,
            None => {
                self.statements.push((sql, self.conn.prepare_cached(sql)?));
                self.statements.len() - 1
            }
        };
        Ok(&mut self.statements[i].1)
    }
}

/// The page cache: 64 MiB (the default is 2), bounded whatever the file size
/// (`PRAGMA cache_size`, negative: KiB); a transaction's dirty pages spill to
/// the log early when they do not fit. Applying 1M rows, whose directory
/// pages (~115 MiB) are read and written at random: 16 MiB 49 s, 32 MiB 45 s
/// (schema v2); 32 MiB 44.8 s, 64 MiB 40.0 s (v3, medians of two alternated
/// pairs). 100k rows fit either way. Peak RSS of a 100k-row run 85 -> 119 MiB.
pub const CACHE_SIZE: i64 = -65_536;

/// How large the write-ahead log grows before it is copied into the
/// database (`Store::open`).
const WAL_BYTES: i64 = 1 << 30;

/// Every commit waits for the disk, except those of a `Grouped`.
const SYNCHRONOUS: &str = "FULL";

/// How long a statement waits for another process's write lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Store {
    pub conn: Connection,
    pub path: PathBuf,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Switching a new database to WAL needs a moment alone with it; the
        // busy handler does not cover that, so wait here when another process
        // is creating it at the same time.
        let mut tries = 0;
        while let Err(e) = conn.pragma_update(None, "journal_mode", "WAL") {
            tries += 1;
            if tries > 100 || e.sqlite_error_code() != Some(rusqlite::ErrorCode::DatabaseBusy) {
                return Err(e.into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        conn.pragma_update(None, "synchronous", SYNCHRONOUS)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "cache_size", CACHE_SIZE)?;
        // Checkpoint the write-ahead log once it holds 1 GiB instead of every
        // 4 MiB: applying rows dirties pages all over the file, and a
        // checkpoint writes each page once however often it changed since
        // the last one, then syncs the database (measured: 100k rows 16.4 s
        // -> 9.7 s at 64 MiB; applying 1M rows 56 s -> 49 s at 1 GiB). After
        // a checkpoint the log is written again from its start, in place: it
        // is not cut back below that size (cut back to 64 MiB each time, the
        // file system allocated the gigabyte again after every checkpoint:
        // a 1M-row run 4% to 12% slower over three alternated pairs).
        conn.pragma_update(None, "wal_autocheckpoint", WAL_BYTES / 4096)?; // pages
        conn.pragma_update(None, "journal_size_limit", WAL_BYTES)?;
        conn.set_prepared_statement_cache_capacity(64);
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let current: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        let target = MIGRATIONS.len() as i64;
        if current > target {
            return Err(Error::Corrupt(format!(
                "{} was written by a newer numbatch (schema {current}, this one knows {target}): upgrade numbatch",
                self.path.display()
            )));
        }
        if current == target {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let current: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Copies the write-ahead log of the database at `db` into it, as far as no
/// reader holds it back (a passive checkpoint: it never waits), through a
/// connection of its own: for a thread of its own while another connection
/// writes.
pub fn checkpoint_from(db: &Path) -> Result<()> {
    Connection::open(db)?.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    Ok(())
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A unix-ms time as the admin reads it (UTC, RFC 3339).
pub fn show_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synchronous(conn: &Connection) -> i64 {
        conn.pragma_query_value(None, "synchronous", |r| r.get(0))
            .expect("synchronous")
    }

    /// Only the commits of a `Grouped` skip waiting for the disk; the next
    /// commit after it waits again, whether it ended well or not.
    #[test]
    fn grouped_commits_relax_syncing_only_while_they_last() {
        const NORMAL: i64 = 1;
        const FULL: i64 = 2;
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("t.db")).expect("open");
        assert_eq!(synchronous(&store.conn), FULL);
        {
            let mut tx = Grouped::new(&store.conn).expect("grouped");
            assert_eq!(synchronous(&store.conn), NORMAL);
            tx.begin().expect("begin");
            tx.commit().expect("commit");
            assert_eq!(synchronous(&store.conn), NORMAL);
        }
        assert_eq!(synchronous(&store.conn), FULL);
        {
            // Dropped part-way, with a transaction open.
            let mut tx = Grouped::new(&store.conn).expect("grouped");
            tx.begin()
                .expect("begin")
                .execute_batch("CREATE TABLE t (x)")
                .expect("create");
        }
        assert_eq!(synchronous(&store.conn), FULL);
        let rolled_back: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 't'",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(rolled_back, 0);
    }
}
