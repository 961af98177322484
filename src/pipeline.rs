//! The pipeline end to end: read → batch → validate → queue (`load`), then
//! apply → report (`run_job`). The commands are thin layers over these two.

use crate::apply::{self, Ended};
use crate::batch::batches;
use crate::cli::JobArgs;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::queue::{self, Counts, Group, Job, JobOptions, NewJob, Origin, QueuedRow};
use crate::read::{self, Layout, RawRow, Rows, Source};
use crate::report;
use crate::store::{Grouped, Store, directory};
use crate::testhook::{self, Stage};
use crate::text;
use crate::timing::{self, Phase};
use crate::validate::{
    self,
    duplicate::SeenKeys,
    phone::{self, Region},
};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// Queues the rows of one file (or of a retry or undo) as a new job: every
/// row validated, the whole job stored before any of it is applied. A file
/// error part-way leaves no job behind.
pub fn load(
    store: &mut Store,
    new: &NewJob<'_>,
    layout: &Layout,
    rows: impl Iterator<Item = Result<RawRow>>,
    region: Option<Region>,
    quiet: bool,
) -> Result<i64> {
    let staged = stage(store, new, layout, rows, region, quiet)?;
    staged.queue(store)
}

/// A job whose rows are all stored but that nobody may run yet: `queue`
/// makes it runnable, `discard` forgets it. `run` and `submit` stage every
/// file before queueing any, so one bad file leaves none queued.
pub struct Staged {
    pub id: i64,
    /// Its rows: pending, or failed their checks.
    pub counts: Counts,
}

impl Staged {
    pub fn queue(&self, store: &Store) -> Result<i64> {
        let rows = self.counts.pending + self.counts.failed;
        queue::queue_job(&store.conn, self.id, rows)?;
        Ok(self.id)
    }

    pub fn discard(&self, store: &Store) {
        // Best effort: a leftover loading job is invisible, and `resume`
        // drops it (its group is incomplete, or its file is rejected again).
        let _ = queue::discard(&store.conn, self.id);
    }
}

/// Stores a file's rows as a new job, without queueing it. `group` is that
/// of the command's jobs, if it stores several.
pub fn stage_file(
    store: &mut Store,
    source: &Source,
    job: &JobArgs,
    group: Option<&Group>,
    reports_dir: &str,
    quiet: bool,
) -> Result<Staged> {
    // The file run again: half-stored copies that a dead process left go
    // (one of a group is left: `resume` drops the group, saying why).
    if !job.dry_run {
        for copy in queue::loading_abandoned(&store.conn)? {
            if copy.sha256 == source.sha256
                && copy.options.group.is_none()
                && queue::adopt_loading(
                    &mut store.conn,
                    std::slice::from_ref(&copy),
                    &queue::owner::me(),
                )?
            {
                queue::discard(&store.conn, copy.id)?;
                if !quiet {
                    eprintln!(
                        "job {} ({}), interrupted while being stored, is dropped: this run of its file replaces it",
                        copy.id,
                        text::escape(&copy.file)
                    );
                }
            }
        }
    }
    let options = JobOptions {
        group: group.cloned(),
        source: std::path::absolute(&source.path)
            .ok()
            .map(|p| p.display().to_string()),
        ..job.options()
    };
    let file = source.path.display().to_string();
    let stem = source.stem();
    let new = NewJob {
        file: &file,
        stem: &stem,
        sha256: &source.sha256,
        kind: source.kind(),
        dry_run: job.dry_run,
        options: &options,
        reports_dir,
        origin: Origin::File,
        parent: None,
    };
    let rows = Rows::new(source)?.map(|r| r.map_err(Error::from));
    stage(store, &new, &source.layout, rows, job.region, quiet)
}

/// Stores the rows of a new job without queueing it.
pub fn stage(
    store: &mut Store,
    new: &NewJob<'_>,
    layout: &Layout,
    rows: impl Iterator<Item = Result<RawRow>>,
    region: Option<Region>,
    quiet: bool,
) -> Result<Staged> {
    let id = queue::create(&store.conn, new)?;
    let loaded = load_rows(
        store,
        id,
        layout,
        rows,
        region,
        new.options.batch_size,
        new.stem,
        quiet,
    );
    match loaded {
        Ok(counts) => Ok(Staged { id, counts }),
        Err(e) => {
            Staged {
                id,
                counts: Counts::default(),
            }
            .discard(store);
            Err(e)
        }
    }
}

/// What became of jobs whose storing was abandoned (`resume`).
pub enum Restaged {
    /// Stored again from their files, whole, and queued.
    Queued,
    /// Another process took them first.
    Taken,
    /// Forgotten, for this reason: they cannot be stored again as they were.
    Discarded(String),
}

/// Stores again, from the start, a job whose process died while storing it
/// (a kill while `run` or `submit` read the file): the same job, so its
/// reports keep their names; with the others its command stored, all or
/// none, as that command would have queued them. Only if each file is still
/// there with the same content and was not run again since, and the
/// command had stored all its files; otherwise they are forgotten, and the
/// reason says what to do. Returns the jobs it dealt with.
pub fn restage(
    store: &mut Store,
    job: &Job,
    max_file_bytes: u64,
    quiet: bool,
) -> Result<(Vec<Job>, Restaged)> {
    let (jobs, incomplete) = match &job.options.group {
        Some(group) => {
            let all = queue::group_jobs(&store.conn, &group.key)?;
            let incomplete = (all.len() < group.jobs).then(|| {
                format!(
                    "the command that stored it was killed before it had stored all its {} files: run it again",
                    group.jobs
                )
            });
            let abandoned: Vec<i64> = queue::loading_abandoned(&store.conn)?
                .iter()
                .map(|j| j.id)
                .collect();
            let jobs = all
                .into_iter()
                .filter(|j| abandoned.contains(&j.id))
                .collect();
            (jobs, incomplete)
        }
        None => (vec![job.clone()], None),
    };
    // Taken over first, so that no other process stores or drops them meanwhile.
    if !queue::adopt_loading(&mut store.conn, &jobs, &queue::owner::me())? {
        return Ok((jobs, Restaged::Taken));
    }
    let outcome = match incomplete {
        Some(why) => Err(why),
        None => load_again(store, &jobs, max_file_bytes, quiet)?,
    };
    let outcome = match outcome {
        Ok(counts) => {
            for (job, c) in jobs.iter().zip(counts) {
                queue::queue_job(&store.conn, job.id, c.pending + c.failed)?;
            }
            Restaged::Queued
        }
        Err(why) => {
            for job in &jobs {
                queue::discard(&store.conn, job.id)?;
            }
            Restaged::Discarded(why)
        }
    };
    Ok((jobs, outcome))
}

/// Stores the rows of adopted jobs again from their files; or why one
/// cannot be.
fn load_again(
    store: &mut Store,
    jobs: &[Job],
    max_file_bytes: u64,
    quiet: bool,
) -> Result<std::result::Result<Vec<Counts>, String>> {
    let mut sources = Vec::with_capacity(jobs.len());
    for job in jobs {
        match source_again(store, job, max_file_bytes)? {
            Ok(source) => sources.push(source),
            Err(why) => return Ok(Err(why)),
        }
    }
    let mut counts = Vec::with_capacity(jobs.len());
    for (job, source) in jobs.iter().zip(&sources) {
        let region = job.options.region.as_deref().and_then(phone::parse_region);
        let loaded = Rows::new(source).map_err(Error::from).and_then(|rows| {
            let rows = rows.map(|r| r.map_err(Error::from));
            load_rows(
                store,
                job.id,
                &source.layout,
                rows,
                region,
                job.options.batch_size,
                &job.stem,
                quiet,
            )
        });
        match loaded {
            Ok(c) => counts.push(c),
            Err(Error::File(e)) => return Ok(Err(format!("{e}: fix the file and run it again"))),
            Err(e) => return Err(e),
        }
    }
    Ok(Ok(counts))
}

/// The file of an abandoned job, as it was when the job was stored; or
/// why the job cannot be stored again.
fn source_again(
    store: &Store,
    job: &Job,
    max_file_bytes: u64,
) -> Result<std::result::Result<Source, String>> {
    if job.origin != Origin::File {
        return Ok(Err(format!(
            "it was being made by `numbatch {}`: run that again",
            job.origin.as_str()
        )));
    }
    if !job.dry_run
        && let Some(again) = queue::submitted_again(&store.conn, job)?
    {
        return Ok(Err(format!(
            "its file was run again since, as job {}",
            again.id
        )));
    }
    let path = Path::new(job.options.source.as_deref().unwrap_or(&job.file));
    Ok(match read::open(path, Some(job.kind), max_file_bytes) {
        Ok(source) if source.sha256 == job.sha256 => Ok(source),
        Ok(_) => Err(format!(
            "{} has changed since: run it again",
            text::path(Path::new(&job.file))
        )),
        Err(e) => Err(format!("{e}: run the file again")),
    })
}

/// Stores a job's rows, validated, with a counter of them (`label`) on the
/// terminal.
#[allow(clippy::too_many_arguments)]
fn load_rows(
    store: &Store,
    id: i64,
    layout: &Layout,
    rows: impl Iterator<Item = Result<RawRow>>,
    region: Option<Region>,
    batch_size: usize,
    label: &str,
    quiet: bool,
) -> Result<Counts> {
    let progress = Progress::counter(quiet, label);
    // Two stages that overlap: a validator thread checks the next
    // `validate::TOGETHER` batches (rayon inside) while this thread stores
    // the ones before. At most two such groups are in flight, so memory
    // stays bounded by the batch size.
    let loaded = std::thread::scope(|scope| {
        let (to_validator, groups_in) = std::sync::mpsc::sync_channel::<Vec<Vec<RawRow>>>(1);
        let (to_store, checked_in) = std::sync::mpsc::sync_channel::<Vec<Vec<QueuedRow>>>(1);
        scope.spawn(move || {
            for group in groups_in {
                let queued = timing::time(Phase::Validate, || check(layout, group, region));
                if to_store.send(queued).is_err() {
                    break; // the storing side stopped on an error
                }
            }
        });
        let mut counts = Counts::default();
        let mut in_flight = 0;
        let mut writer = Grouped::new(&store.conn)?;
        let mut seen = SeenKeys::new();
        let mut store_one = |queued: Vec<QueuedRow>| -> Result<()> {
            progress.inc(queued.len() as u64);
            timing::time(Phase::Queue, || {
                let tx = writer.begin()?;
                queue::insert_batch(tx, id, layout.kind, queued, &mut seen, &mut counts)?;
                // Every commit renews the heartbeat: a live owner's job is
                // never taken for abandoned.
                if testhook::batch_done(Stage::Stored) || writer.due() {
                    queue::renew_loading(tx, id)?;
                    writer.commit()?;
                    testhook::after_commit(Stage::Stored);
                }
                Ok(())
            })
        };
        let mut groups = batches(batches(rows, batch_size), validate::TOGETHER);
        while let Some(group) = timing::time(Phase::Read, || groups.next()) {
            if to_validator.send(group?).is_err() {
                break;
            }
            in_flight += 1;
            if in_flight == 2 {
                if let Ok(queued) = checked_in.recv() {
                    queued.into_iter().try_for_each(&mut store_one)?;
                }
                in_flight -= 1;
            }
        }
        drop(to_validator);
        for queued in checked_in {
            queued.into_iter().try_for_each(&mut store_one)?;
        }
        writer.commit()?;
        Ok(counts)
    });
    progress.finish();
    loaded
}

/// The validate phase of storing a file: the row-local checks of a group of
/// batches, with each row as written in the template's columns (what
/// `cargo bench --bench validate` times).
pub fn check(
    layout: &Layout,
    group: Vec<Vec<RawRow>>,
    region: Option<Region>,
) -> Vec<Vec<QueuedRow>> {
    validate::batches(layout, group, region, |raw, checked| QueuedRow {
        row: raw.row,
        raw: layout.template_cells(raw.cells),
        checked,
    })
}

/// How a job this process was asked to run ended.
pub enum End {
    /// Every row has its outcome; the reports are written.
    Finished(report::Paths),
    /// Another live process holds the job.
    Busy,
    /// Stopped on request between batches; `resume` continues.
    Stopped,
}

/// What became of a job this process ran.
pub struct Summary {
    pub job: Job,
    pub counts: Counts,
    pub end: End,
}

/// Claims a job, applies its pending rows, writes its reports and marks it done.
pub fn run_job(
    store: &mut Store,
    job: &Job,
    me: &str,
    quiet: bool,
    stop: &AtomicBool,
) -> Result<Summary> {
    let (end, counts) = run_claimed(store, job, me, quiet, stop)?;
    let counts = match counts {
        Some(counts) => counts,
        None => queue::counts(&store.conn, job.id)?,
    };
    Ok(Summary {
        job: job.clone(),
        counts,
        end,
    })
}

/// How the job ended, with its rows counted when the reports were written.
fn run_claimed(
    store: &mut Store,
    job: &Job,
    me: &str,
    quiet: bool,
    stop: &AtomicBool,
) -> Result<(End, Option<Counts>)> {
    if !queue::claim(&mut store.conn, job.id, me)? {
        return Ok((End::Busy, None));
    }
    // The rows left to apply are counted only for a bar that is drawn.
    let todo = if !Progress::shown(quiet) {
        0
    } else if job.dry_run {
        job.rows
    } else {
        queue::counts(&store.conn, job.id)?.pending
    };
    let progress = if todo == 0 {
        Progress::hidden()
    } else {
        Progress::new(quiet, todo, &format!("job {} {}", job.id, job.stem))
    };
    let ended = timing::time(Phase::Apply, || {
        apply::process(store, job, me, &progress, stop)
    })?;
    progress.finish();
    if ended == Ended::Stopped {
        return Ok((End::Stopped, None));
    }
    // The reports are written from a second connection, on another thread,
    // while this one files the job's history: the two are independent, and
    // the job is marked done once both are. Meanwhile a third copies the
    // rows just applied from the log into the database, which closing the
    // database would otherwise do after all this (best effort: closing does
    // what is left). (A database in memory has no second connection: its
    // reports are written here.)
    let db = store
        .conn
        .path()
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    let tx = store
        .conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let counts = timing::time(Phase::Report, || {
        std::thread::scope(|scope| -> Result<Counts> {
            let reports = db.as_deref().map(|db| {
                scope.spawn(move || {
                    let _ = crate::store::checkpoint_from(db);
                });
                scope.spawn(move || report::write_from(db, job))
            });
            if !job.dry_run {
                directory::index_history(&tx, job.id)?;
            }
            queue::finish(&tx, job.id)?;
            match reports {
                Some(r) => r.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                None => report::write(&tx, job),
            }
        })
    })?;
    tx.commit()?;
    Ok((End::Finished(report::paths(job)), Some(counts)))
}
