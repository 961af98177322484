//! Applying a job: its pending rows in file order, batch by batch, in
//! transactions of whole batches that change the directory and record each
//! row's outcome together, so the directory and the queue never disagree.

pub mod rules;

use crate::codes::RowError;
use crate::error::Result;
use crate::progress::Progress;
use crate::queue::{self, Job, Status};
use crate::store::{Grouped, Prepared, Store, directory, now_ms};
use crate::testhook::Stage;
use rules::{Clock, Outcome};
use rusqlite::Connection;
use std::sync::atomic::{AtomicBool, Ordering};

/// Why `process` returned.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// Every row has its outcome.
    Complete,
    /// Stopped on request between batches; the job is queued again.
    Stopped,
}

/// Applies every pending row of a claimed job. A dry run does the same on a
/// private copy of the directory that is thrown away.
pub fn process(
    store: &mut Store,
    job: &Job,
    me: &str,
    progress: &Progress,
    stop: &AtomicBool,
) -> Result<Ended> {
    let result = if job.dry_run {
        queue::reset_simulation(&store.conn, job.id)?;
        directory::shadow(&store.conn)?;
        replay_followed(store, job).and_then(|()| apply_rows(store, job, me, progress, stop))
    } else {
        apply_rows(store, job, me, progress, stop)
    };
    if job.dry_run {
        directory::unshadow(&store.conn)?;
    }
    result
}

fn apply_rows(
    store: &Store,
    job: &Job,
    me: &str,
    progress: &Progress,
    stop: &AtomicBool,
) -> Result<Ended> {
    let batch = job.options.batch_size.clamp(1, 500);
    let cooldown = job.options.cooldown_ms;
    let mut after = 0;
    let mut tx = Grouped::new(&store.conn)?;
    // Every commit renews the job's heartbeat in the same transaction.
    let commit = |tx: &mut Grouped<'_>| -> Result<()> {
        if tx.is_open() {
            queue::heartbeat(&store.conn, job.id, me)?;
        }
        tx.commit()?;
        crate::testhook::after_commit(Stage::Applied);
        Ok(())
    };
    loop {
        if stop.load(Ordering::Relaxed) {
            commit(&mut tx)?;
            drop(tx); // the release waits for the disk, and so all before it
            queue::release(&store.conn, job.id, me)?;
            return Ok(Ended::Stopped);
        }
        // Read inside the write transaction: no other process can apply
        // these rows in the meantime.
        let conn = tx.begin()?;
        let rows = queue::pending(conn, job.id, after, batch)?;
        let Some(last) = rows.last() else {
            commit(&mut tx)?;
            return Ok(Ended::Complete);
        };
        after = last.row;
        apply_batch(conn, job, &rows, cooldown)?;
        progress.inc(rows.len() as u64);
        if crate::testhook::batch_done(Stage::Applied) || tx.due() {
            commit(&mut tx)?;
        }
    }
}

/// Applies one batch's rows in file order and records each one's outcome,
/// inside the caller's transaction.
fn apply_batch(conn: &Connection, job: &Job, rows: &[queue::Pending], cooldown: i64) -> Result<()> {
    let clock = Clock {
        now: now_ms(),
        cooldown,
    };
    let db = &mut Prepared::new(conn);
    for p in rows {
        match apply_row(db, job.id, p, clock)? {
            Ok(effect) => {
                let status = match (effect.outcome, job.dry_run) {
                    (Outcome::Unchanged, _) => Status::Unchanged,
                    (Outcome::Applied, true) => Status::WouldApply,
                    (Outcome::Applied, false) => Status::Applied,
                };
                queue::set_outcome(db, job.id, p.row, status, None, &effect.detail)?;
            }
            Err(e) => {
                queue::set_outcome(db, job.id, p.row, Status::Failed, Some(e.code), &e.message)?;
            }
        }
    }
    Ok(())
}

/// Applies one row to the directory (or a dry run's copy): the records it
/// changed are written with their audit entries, or the rules refuse it.
fn apply_row(
    db: &mut Prepared<'_>,
    job_id: i64,
    p: &queue::Pending,
    clock: Clock,
) -> Result<std::result::Result<rules::Effect, RowError>> {
    let snapshot = directory::snapshot(db, &p.op)?;
    let effect = match rules::apply(&p.op, &snapshot, clock) {
        Ok(effect) => effect,
        Err(e) => return Ok(Err(e)),
    };
    let origin = directory::Origin {
        at: clock.now,
        job_id: Some(job_id),
        row: Some(p.row),
        action: p.op.action().as_str(),
    };
    directory::write(db, &snapshot, &effect, &origin)?;
    Ok(Ok(effect))
}

/// For a dry run given after others in one command (its group): the rows
/// of those earlier dry runs, simulated again on this one's copy of the
/// directory, oldest first, so that it simulates what a real run of the
/// files in order would do. Every row that passed the checks goes through
/// the rules again, whatever the earlier simulation made of it (or whether
/// it has run yet): the same rules on the same records give the same
/// changes.
fn replay_followed(store: &Store, job: &Job) -> Result<()> {
    let Some(group) = &job.options.group else {
        return Ok(());
    };
    let earlier: Vec<Job> = queue::group_jobs(&store.conn, &group.key)?
        .into_iter()
        .filter(|j| j.id < job.id && j.dry_run)
        .collect();
    let tx = store.conn.unchecked_transaction()?;
    for earlier in &earlier {
        let clock = Clock {
            now: now_ms(),
            cooldown: earlier.options.cooldown_ms,
        };
        let mut after = 0;
        loop {
            let rows = queue::checked_rows(&tx, earlier.id, after, 500)?;
            let Some(last) = rows.last() else { break };
            after = last.row;
            let db = &mut Prepared::new(&tx);
            for p in &rows {
                // Refused or not, as that dry run found (or will).
                let _ = apply_row(db, earlier.id, p, clock)?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}
