//! The pending-actions queue: jobs and their rows in SQLite. A job is loaded
//! whole (state `loading`), then `queued`; a process claims it (`running`,
//! with an owner and a heartbeat) and applies its rows batch by batch; once
//! its reports are written it is `done`.

pub mod owner;

use crate::codes::{ErrorCode, RowError};
use crate::error::{Error, Result};
use crate::model::{Action, Kind, Op};
use crate::store::Prepared;
use crate::validate::duplicate;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

/// The options a job was submitted with; `resume` uses them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobOptions {
    pub batch_size: usize,
    pub region: Option<String>,
    /// Milliseconds.
    pub cooldown_ms: i64,
    /// The jobs stored by one command of several files, if this is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Group>,
    /// The file's absolute path, for `resume` to store it again from any
    /// folder if the process storing it dies (the job's `file` is the path
    /// as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The jobs one command stored together (`run a.csv b.csv`), which it
/// queues all or none: a key of that command, and how many jobs it stored.
/// `resume` stores again such jobs left half-stored only all together, and
/// a dry run among them sees what the dry runs before it would do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub key: String,
    pub jobs: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    File,
    Retry,
    Undo,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::File => "file",
            Origin::Retry => "retry",
            Origin::Undo => "undo",
        }
    }
}

/// What `submit` records about a new job.
pub struct NewJob<'a> {
    pub file: &'a str,
    pub stem: &'a str,
    pub sha256: &'a str,
    pub kind: Kind,
    pub dry_run: bool,
    pub options: &'a JobOptions,
    pub reports_dir: &'a str,
    pub origin: Origin,
    pub parent: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Job {
    pub id: i64,
    pub file: String,
    pub stem: String,
    /// Of the file's content when it was stored.
    #[serde(skip)]
    pub sha256: String,
    pub kind: Kind,
    pub state: String,
    pub dry_run: bool,
    #[serde(skip)]
    pub options: JobOptions,
    pub reports_dir: String,
    pub origin: Origin,
    pub parent: Option<i64>,
    pub rows: u64,
    #[serde(skip)]
    pub owner: Option<String>,
    #[serde(skip)]
    pub heartbeat_at: Option<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl Job {
    /// Whether the process that owns the job (storing or running it) is
    /// alive: its heartbeat is fresh, or its process still runs here.
    pub fn owner_alive(&self, now: i64) -> bool {
        owner::alive(self.owner.as_deref(), self.heartbeat_at, now)
    }
}

/// A job's rows by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub applied: u64,
    pub unchanged: u64,
    pub would_apply: u64,
    pub failed: u64,
    pub pending: u64,
}

impl Counts {
    /// Counts one more row with this status.
    pub fn add(&mut self, status: Status) {
        let n = match status {
            Status::Pending => &mut self.pending,
            Status::Applied => &mut self.applied,
            Status::Unchanged => &mut self.unchanged,
            Status::WouldApply => &mut self.would_apply,
            Status::Failed => &mut self.failed,
        };
        *n += 1;
    }
}

/// Outcome of one row, as the queue stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Applied,
    Unchanged,
    WouldApply,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Applied => "applied",
            Status::Unchanged => "unchanged",
            Status::WouldApply => "would-apply",
            Status::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Status {
        match s {
            "applied" => Status::Applied,
            "unchanged" => Status::Unchanged,
            "would-apply" => Status::WouldApply,
            "failed" => Status::Failed,
            _ => Status::Pending,
        }
    }
}

const JOB_COLUMNS: &str = "id, file, stem, kind, state, dry_run, options, reports_dir, origin, parent, rows, owner, heartbeat_at, created_at, started_at, finished_at, sha256";

fn job_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    let kind: String = r.get(3)?;
    let origin: String = r.get(8)?;
    let options: String = r.get(6)?;
    let options = serde_json::from_str(&options).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(Job {
        id: r.get(0)?,
        file: r.get(1)?,
        stem: r.get(2)?,
        sha256: r.get(16)?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Assignments),
        state: r.get(4)?,
        dry_run: r.get(5)?,
        options,
        reports_dir: r.get(7)?,
        origin: match origin.as_str() {
            "retry" => Origin::Retry,
            "undo" => Origin::Undo,
            _ => Origin::File,
        },
        parent: r.get(9)?,
        rows: r.get::<_, i64>(10)? as u64,
        owner: r.get(11)?,
        heartbeat_at: r.get(12)?,
        created_at: r.get(13)?,
        started_at: r.get(14)?,
        finished_at: r.get(15)?,
    })
}

pub fn job(conn: &Connection, id: i64) -> Result<Option<Job>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1 AND state != 'loading'"
    ))?;
    Ok(st.query_row([id], job_from).optional()?)
}

/// Every job (not those still loading), oldest first.
pub fn jobs(conn: &Connection) -> Result<Vec<Job>> {
    let mut st = conn.prepare(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE state != 'loading' ORDER BY id"
    ))?;
    let rows = st.query_map([], job_from)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Jobs not done yet, oldest first.
pub fn open_jobs(conn: &Connection) -> Result<Vec<Job>> {
    let mut st = conn.prepare(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'queued' OR state = 'running' ORDER BY id"
    ))?;
    let rows = st.query_map([], job_from)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The earlier real (not dry-run) job with the same content, if any.
pub fn same_content(conn: &Connection, sha256: &str) -> Result<Option<Job>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE sha256 = ?1 AND dry_run = 0 AND state != 'loading'
         ORDER BY id DESC LIMIT 1"
    ))?;
    Ok(st.query_row([sha256], job_from).optional()?)
}

/// Starts a job in state `loading`: invisible until `queue_job`.
/// The process storing it is its owner, renewing the heartbeat as it goes:
/// if it dies, `resume` stores the job again (`loading_abandoned`).
pub fn create(conn: &Connection, new: &NewJob<'_>) -> Result<i64> {
    conn.execute(
        "INSERT INTO jobs (file, stem, sha256, kind, state, dry_run, options, reports_dir, origin, parent,
                           created_at, owner, heartbeat_at)
         VALUES (?1, ?2, ?3, ?4, 'loading', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?10)",
        params![
            new.file,
            new.stem,
            new.sha256,
            new.kind.as_str(),
            new.dry_run,
            serde_json::to_string(new.options)?,
            new.reports_dir,
            new.origin.as_str(),
            new.parent,
            crate::store::now_ms(),
            owner::me()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A loaded job becomes visible and runnable (by anyone: no owner). Only
/// by the process that stored it: if another took it over meanwhile (it
/// judged this one dead), this one must not queue it.
pub fn queue_job(conn: &Connection, id: i64, rows: u64) -> Result<()> {
    let queued = conn.execute(
        "UPDATE jobs SET state = 'queued', rows = ?2, owner = NULL, heartbeat_at = NULL
         WHERE id = ?1 AND state = 'loading' AND owner = ?3",
        params![id, rows as i64, owner::me()],
    )?;
    if queued != 1 {
        return Err(taken_over(id));
    }
    Ok(())
}

fn taken_over(id: i64) -> Error {
    Error::Corrupt(format!(
        "job {id} was taken over by another process while this one stored it (it looked dead: no heartbeat for {} s); `numbatch resume` finishes it",
        owner::LEASE_MS / 1000
    ))
}

/// While this process stores files: renews the heartbeat of every job it
/// is storing (a command of several files keeps the first ones `loading`
/// until all are stored), and checks it still owns job `id`.
pub fn renew_loading(conn: &Connection, id: i64) -> Result<()> {
    let me = owner::me();
    conn.prepare_cached(
        "UPDATE jobs SET heartbeat_at = ?2 WHERE owner = ?1 AND state = 'loading'",
    )?
    .execute(params![me, crate::store::now_ms()])?;
    let owner: Option<String> = conn
        .prepare_cached("SELECT owner FROM jobs WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .flatten();
    if owner.as_deref() != Some(me.as_str()) {
        return Err(taken_over(id));
    }
    Ok(())
}

/// Jobs left `loading` by a process that died while storing them (a kill
/// while `run` or `submit` read the file), oldest first.
pub fn loading_abandoned(conn: &Connection) -> Result<Vec<Job>> {
    let now = crate::store::now_ms();
    Ok(jobs_where(conn, "state = 'loading'", [])?
        .into_iter()
        .filter(|j| !j.owner_alive(now))
        .collect())
}

/// The real jobs of this content being stored, by a live process or one
/// that died doing it, oldest first.
pub fn loading_of(conn: &Connection, sha256: &str) -> Result<Vec<Job>> {
    jobs_where(
        conn,
        "state = 'loading' AND sha256 = ?1 AND dry_run = 0",
        [sha256],
    )
}

/// Every job of a group, in any state (even `loading`), oldest first.
pub fn group_jobs(conn: &Connection, key: &str) -> Result<Vec<Job>> {
    jobs_where(conn, "json_extract(options, '$.group.key') = ?1", [key])
}

fn jobs_where(conn: &Connection, filter: &str, args: impl rusqlite::Params) -> Result<Vec<Job>> {
    let mut st = conn.prepare(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE {filter} ORDER BY id"
    ))?;
    let jobs = st.query_map(args, job_from)?;
    Ok(jobs.collect::<rusqlite::Result<_>>()?)
}

/// Takes over jobs whose storing was abandoned, all or none, to store them
/// again from the start: their rows so far are dropped. False if another
/// process took one first, or its owner turned out alive (a heartbeat
/// since it was judged dead).
pub fn adopt_loading(conn: &mut Connection, jobs: &[Job], me: &str) -> Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = crate::store::now_ms();
    for job in jobs {
        let taken = tx.execute(
            "UPDATE jobs SET owner = ?3, heartbeat_at = ?4
             WHERE id = ?1 AND state = 'loading' AND owner IS ?2 AND heartbeat_at IS ?5",
            params![job.id, job.owner, me, now, job.heartbeat_at],
        )? == 1;
        if !taken {
            return Ok(false); // rolled back
        }
        tx.execute("DELETE FROM job_rows WHERE job_id = ?1", [job.id])?;
    }
    tx.commit()?;
    Ok(true)
}

/// A real job of the same content as `job` submitted after it, stored
/// already or being stored by a live process: `job`'s file was run again.
pub fn submitted_again(conn: &Connection, job: &Job) -> Result<Option<Job>> {
    let now = crate::store::now_ms();
    Ok(jobs_where(
        conn,
        "sha256 = ?1 AND dry_run = 0 AND id > ?2",
        params![job.sha256, job.id],
    )?
    .into_iter()
    .find(|j| j.state != "loading" || j.owner_alive(now)))
}

/// Forgets a job that could not be loaded (its file was rejected), and any
/// job left loading by a process that died.
pub fn discard(conn: &Connection, id: i64) -> Result<()> {
    // Never the rows of a job that was queued meanwhile.
    conn.execute(
        "DELETE FROM job_rows WHERE job_id = ?1
         AND EXISTS (SELECT 1 FROM jobs WHERE id = ?1 AND state = 'loading')",
        [id],
    )?;
    conn.execute("DELETE FROM jobs WHERE id = ?1 AND state = 'loading'", [id])?;
    Ok(())
}

/// One row to queue: where it came from and what validation made of it.
pub struct QueuedRow {
    pub row: u64,
    /// The row as written, in the template's columns.
    pub raw: Vec<String>,
    pub checked: std::result::Result<Op, RowError>,
}

/// Stores a validated batch (inside the caller's write transaction),
/// checking DUPLICATE_IN_FILE against the rows already queued for the job
/// (in file order, so memory stays flat whatever the file size). `seen`
/// holds the keys of the job's earlier batches: one per job being stored.
/// Each row stored is added to `counts` (pending, or failed its checks).
pub fn insert_batch(
    conn: &Connection,
    job_id: i64,
    kind: Kind,
    rows: Vec<QueuedRow>,
    seen: &mut duplicate::SeenKeys,
    counts: &mut Counts,
) -> Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO job_rows (job_id, row, raw, op, key, action, upn, status, code, message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut last = conn.prepare_cached(
            "SELECT row, action, upn FROM job_rows INDEXED BY job_rows_by_key WHERE job_id = ?1 AND key = ?2
             ORDER BY row DESC LIMIT 1",
        )?;
    let mut other = conn.prepare_cached(
            "SELECT row, action FROM job_rows INDEXED BY job_rows_by_key WHERE job_id = ?1 AND key = ?2 AND action != ?3
             ORDER BY row LIMIT 1",
        )?;
    for r in rows {
        let checked = match r.checked {
            // A key the job certainly has not had needs no lookup.
            Ok(op) if !seen.insert(op.key()) => Ok(op),
            Ok(op) => match kind {
                Kind::Assignments => {
                    let earlier: Option<(i64, String, Option<String>)> = last
                        .query_row(params![job_id, op.key()], |x| {
                            Ok((x.get(0)?, x.get(1)?, x.get(2)?))
                        })
                        .optional()?;
                    let earlier = earlier.as_ref().and_then(|(row, action, upn)| {
                        Some(duplicate::Earlier {
                            row: *row as u64,
                            action: Action::parse(action)?,
                            upn: upn.as_deref(),
                        })
                    });
                    duplicate::assignment(&op, earlier).map(|()| op)
                }
                Kind::Users | Kind::Numbers => {
                    let earlier: Option<(i64, String)> = other
                        .query_row(params![job_id, op.key(), op.action().as_str()], |x| {
                            Ok((x.get(0)?, x.get(1)?))
                        })
                        .optional()?;
                    let earlier =
                        earlier.and_then(|(row, a)| Some((row as u64, Action::parse(&a)?)));
                    duplicate::other(&op, earlier).map(|()| op)
                }
            },
            Err(e) => Err(e),
        };
        let raw = serde_json::to_string(&r.raw)?;
        match checked {
            Ok(op) => {
                insert.execute(params![
                    job_id,
                    r.row as i64,
                    raw,
                    serde_json::to_string(&op)?,
                    op.key(),
                    op.action().as_str(),
                    op.upn(),
                    Status::Pending.as_str(),
                    None::<&str>,
                    None::<&str>
                ])?;
                counts.add(Status::Pending);
            }
            Err(e) => {
                insert.execute(params![
                    job_id,
                    r.row as i64,
                    raw,
                    None::<&str>,
                    None::<&str>,
                    None::<&str>,
                    None::<&str>,
                    Status::Failed.as_str(),
                    e.code.as_str(),
                    e.message
                ])?;
                counts.add(Status::Failed);
            }
        }
    }
    Ok(())
}

/// A row waiting to be applied.
pub struct Pending {
    pub row: u64,
    pub op: Op,
}

/// The next pending rows of a job after `after`, in file order.
pub fn pending(conn: &Connection, job_id: i64, after: u64, limit: usize) -> Result<Vec<Pending>> {
    rows_of(conn, job_id, "status = 'pending'", after, limit)
}

/// The next rows of a job after `after` that passed the checks when it was
/// stored (whatever applying them made of them since), in file order.
pub fn checked_rows(
    conn: &Connection,
    job_id: i64,
    after: u64,
    limit: usize,
) -> Result<Vec<Pending>> {
    let filter = format!(
        "op IS NOT NULL AND (code IS NULL OR code NOT IN ({}))",
        submission_codes()
    );
    rows_of(conn, job_id, &filter, after, limit)
}

fn rows_of(
    conn: &Connection,
    job_id: i64,
    filter: &str,
    after: u64,
    limit: usize,
) -> Result<Vec<Pending>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT row, op FROM job_rows WHERE job_id = ?1 AND row > ?2 AND {filter}
         ORDER BY row LIMIT ?3"
    ))?;
    let rows = st.query_map(params![job_id, after as i64, limit as i64], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
    })?;
    let mut out = Vec::with_capacity(limit);
    for r in rows {
        let (row, op) = r?;
        let op = serde_json::from_str(op.as_deref().unwrap_or("null"))?;
        out.push(Pending {
            row: row as u64,
            op,
        });
    }
    Ok(out)
}

/// The codes a row can fail with when its job is stored (the checks up to
/// DUPLICATE_IN_FILE), as an SQL list.
fn submission_codes() -> String {
    let codes: Vec<String> = ErrorCode::ALL
        .iter()
        .filter(|c| **c <= ErrorCode::DuplicateInFile)
        .map(|c| format!("'{}'", c.as_str()))
        .collect();
    codes.join(", ")
}

/// Records a row's outcome: in the same transaction as its change.
pub fn set_outcome(
    db: &mut Prepared<'_>,
    job_id: i64,
    row: u64,
    status: Status,
    code: Option<ErrorCode>,
    message: &str,
) -> Result<()> {
    const SET_OUTCOME: &str =
        "UPDATE job_rows SET status = ?3, code = ?4, message = ?5 WHERE job_id = ?1 AND row = ?2";
    db.get(SET_OUTCOME)?.execute(params![
        job_id,
        row as i64,
        status.as_str(),
        code.map(ErrorCode::as_str),
        message
    ])?;
    Ok(())
}

/// A dry run starts over: the rows it simulated go back to pending (those
/// that failed a check at submission stay failed).
pub fn reset_simulation(conn: &Connection, job_id: i64) -> Result<()> {
    conn.execute(
        &format!(
            "UPDATE job_rows SET status = 'pending', code = NULL, message = NULL
             WHERE job_id = ?1 AND status != 'pending' AND (code IS NULL OR code NOT IN ({}))",
            submission_codes()
        ),
        [job_id],
    )?;
    Ok(())
}

/// Takes a job to run: queued, or running with an owner that is gone.
/// Returns false when another live process has it.
pub fn claim(conn: &mut Connection, job_id: i64, me: &str) -> Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let row: Option<(String, Option<String>, Option<i64>)> = tx
        .query_row(
            "SELECT state, owner, heartbeat_at FROM jobs WHERE id = ?1",
            [job_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let now = crate::store::now_ms();
    let free = match &row {
        Some((state, _, _)) if state == "queued" => true,
        Some((state, owner, beat)) if state == "running" => {
            owner.as_deref() == Some(me) || !owner::alive(owner.as_deref(), *beat, now)
        }
        _ => false,
    };
    if free {
        tx.execute(
            "UPDATE jobs SET state = 'running', owner = ?2, heartbeat_at = ?3,
               started_at = coalesce(started_at, ?3) WHERE id = ?1",
            params![job_id, me, now],
        )?;
    }
    tx.commit()?;
    Ok(free)
}

pub fn heartbeat(conn: &Connection, job_id: i64, me: &str) -> Result<()> {
    conn.prepare_cached("UPDATE jobs SET heartbeat_at = ?3 WHERE id = ?1 AND owner = ?2")?
        .execute(params![job_id, me, crate::store::now_ms()])?;
    Ok(())
}

/// Marks a job done (after its reports are written).
pub fn finish(conn: &Connection, job_id: i64) -> Result<()> {
    conn.execute(
        "UPDATE jobs SET state = 'done', owner = NULL, finished_at = ?2 WHERE id = ?1",
        params![job_id, crate::store::now_ms()],
    )?;
    Ok(())
}

/// Lets go of a job without finishing it (stopped on request).
pub fn release(conn: &Connection, job_id: i64, me: &str) -> Result<()> {
    conn.execute(
        "UPDATE jobs SET state = 'queued', owner = NULL WHERE id = ?1 AND owner = ?2 AND state = 'running'",
        params![job_id, me],
    )?;
    Ok(())
}

pub fn counts(conn: &Connection, job_id: i64) -> Result<Counts> {
    // Sums over one pass, not GROUP BY: that sorts every row of the job
    // first (measured: 16 MiB more at the end of a 1M-row submit).
    let mut st = conn.prepare_cached(
        "SELECT coalesce(sum(status = 'applied'), 0), coalesce(sum(status = 'unchanged'), 0),
                coalesce(sum(status = 'would-apply'), 0), coalesce(sum(status = 'failed'), 0),
                coalesce(sum(status = 'pending'), 0)
         FROM job_rows WHERE job_id = ?1",
    )?;
    let n = |r: &rusqlite::Row<'_>, i: usize| r.get::<_, i64>(i).map(|v| v as u64);
    Ok(st.query_row([job_id], |r| {
        Ok(Counts {
            applied: n(r, 0)?,
            unchanged: n(r, 1)?,
            would_apply: n(r, 2)?,
            failed: n(r, 3)?,
            pending: n(r, 4)?,
        })
    })?)
}

/// A code, how many rows failed with it, and a few (row, message) examples.
pub type CodeCount = (String, u64, Vec<(u64, String)>);

/// Failures of a job counted by code, with a few example rows each.
pub fn failures_by_code(conn: &Connection, job_id: i64) -> Result<Vec<CodeCount>> {
    let mut st = conn.prepare(
        "SELECT code, count(*) FROM job_rows WHERE job_id = ?1 AND status = 'failed'
         GROUP BY code ORDER BY count(*) DESC, code",
    )?;
    let groups: Vec<(String, i64)> = st
        .query_map([job_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut examples = conn.prepare(
        "SELECT row, message FROM job_rows WHERE job_id = ?1 AND status = 'failed' AND code = ?2
         ORDER BY row LIMIT 3",
    )?;
    let mut out = Vec::new();
    for (code, n) in groups {
        let ex = examples
            .query_map(params![job_id, code], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        out.push((code, n as u64, ex));
    }
    Ok(out)
}

/// A row of a job as the reports need it.
pub struct ReportRow {
    pub row: u64,
    pub raw: Vec<String>,
    pub op: Option<Op>,
    pub status: Status,
    pub code: Option<String>,
    pub message: String,
}

/// Every row of a job in file order, streamed.
pub fn each_row(
    conn: &Connection,
    job_id: i64,
    status: Option<Status>,
    mut f: impl FnMut(ReportRow) -> Result<()>,
) -> Result<()> {
    let mut st = conn.prepare(
        "SELECT row, raw, op, status, code, message FROM job_rows
         WHERE job_id = ?1 AND (?2 IS NULL OR status = ?2) ORDER BY row",
    )?;
    let mut rows = st.query(params![job_id, status.map(Status::as_str)])?;
    while let Some(r) = rows.next()? {
        let raw: String = r.get(1)?;
        let op: Option<String> = r.get(2)?;
        let status: String = r.get(3)?;
        f(ReportRow {
            row: r.get::<_, i64>(0)? as u64,
            raw: serde_json::from_str(&raw)?,
            op: op.map(|o| serde_json::from_str(&o)).transpose()?,
            status: Status::parse(&status),
            code: r.get(4)?,
            message: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
        })?;
    }
    Ok(())
}

/// The failed rows of a job as written, `limit` at a time after `after`.
pub fn failed_rows(
    conn: &Connection,
    job_id: i64,
    after: u64,
    limit: usize,
) -> Result<Vec<crate::read::RawRow>> {
    let mut st = conn.prepare_cached(
        "SELECT row, raw FROM job_rows WHERE job_id = ?1 AND row > ?2 AND status = 'failed'
         ORDER BY row LIMIT ?3",
    )?;
    let rows = st.query_map(params![job_id, after as i64, limit as i64], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (row, raw) = r?;
        out.push(crate::read::RawRow {
            row: row as u64,
            cells: serde_json::from_str(&raw)?,
        });
    }
    Ok(out)
}
