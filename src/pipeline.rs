//! The pipeline end to end: read → batch → validate → queue (`load`), then
//! apply → report (`run_job`). The commands are thin layers over these two.

use crate::apply::{self, Ended};
use crate::batch::batches;
use crate::cli::JobArgs;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::queue::{self, Counts, Job, JobOptions, NewJob, Origin, QueuedRow};
use crate::read::{self, Layout, RawRow, Rows, Source};
use crate::report;
use crate::store::{Grouped, Store, directory};
use crate::testhook::{self, Stage};
use crate::timing::{self, Phase};
use crate::validate::{
    self,
    duplicate::SeenKeys,
    phone::{self, Region},
};
use std::path::PathBuf;
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
        // Best effort: a leftover loading job is invisible and swept later.
        let _ = queue::discard(&store.conn, self.id);
    }
}

/// Stores a file's rows as a new job, without queueing it. `follows` is the
/// dry run given just before this one in the same command, if any.
pub fn stage_file(
    store: &mut Store,
    source: &Source,
    job: &JobArgs,
    follows: Option<i64>,
    reports_dir: &str,
    quiet: bool,
) -> Result<Staged> {
    let options = JobOptions {
        follows,
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
    let progress = Progress::counter(quiet, new.stem);
    let loaded = load_rows(
        store,
        id,
        layout,
        rows,
        region,
        new.options.batch_size,
        &progress,
    );
    progress.finish();
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

/// What became of a job whose storing was abandoned (`resume`).
pub enum Restaged {
    /// Stored again from its file, whole, and queued.
    Queued,
    /// Another process took it first.
    Taken,
    /// Forgotten, for this reason: it cannot be stored again as it was.
    Discarded(String),
}

/// Stores again, from the start, a job whose process died while storing it
/// (a kill while `run` or `submit` read the file): the same job, so its
/// reports keep their names. Only if its file is still there with the same
/// content, and was not submitted again since; otherwise the job is
/// forgotten, and the reason says what to do.
pub fn restage(store: &mut Store, job: &Job, max_file_bytes: u64, quiet: bool) -> Result<Restaged> {
    // Taken over first, so that no other process stores or drops it meanwhile.
    if !queue::adopt_loading(&mut store.conn, job, &queue::owner::me())? {
        return Ok(Restaged::Taken);
    }
    let source = match source_again(store, job, max_file_bytes)? {
        Ok(source) => source,
        Err(why) => {
            queue::discard(&store.conn, job.id)?;
            return Ok(Restaged::Discarded(why));
        }
    };
    let region = job.options.region.as_deref().and_then(phone::parse_region);
    let progress = Progress::counter(quiet, &job.stem);
    let rows = Rows::new(&source)?.map(|r| r.map_err(Error::from));
    let loaded = load_rows(
        store,
        job.id,
        &source.layout,
        rows,
        region,
        job.options.batch_size,
        &progress,
    );
    progress.finish();
    match loaded {
        Ok(counts) => {
            queue::queue_job(&store.conn, job.id, counts.pending + counts.failed)?;
            Ok(Restaged::Queued)
        }
        Err(Error::File(e)) => {
            queue::discard(&store.conn, job.id)?;
            Ok(Restaged::Discarded(format!(
                "{e}: fix the file and run it again"
            )))
        }
        Err(e) => Err(e),
    }
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
    if let Some(again) = queue::submitted_again(&store.conn, job)? {
        return Ok(Err(format!(
            "the same content was submitted again as job {}",
            again.id
        )));
    }
    Ok(
        match read::open(
            std::path::Path::new(&job.file),
            Some(job.kind),
            max_file_bytes,
        ) {
            Ok(source) if source.sha256 == job.sha256 => Ok(source),
            Ok(_) => Err("the file has changed since: run it again".to_string()),
            Err(e) => Err(format!("{e}: run the file again")),
        },
    )
}

fn load_rows(
    store: &Store,
    id: i64,
    layout: &Layout,
    rows: impl Iterator<Item = Result<RawRow>>,
    region: Option<Region>,
    batch_size: usize,
    progress: &Progress,
) -> Result<Counts> {
    // Two stages that overlap: a validator thread checks the next
    // `validate::TOGETHER` batches (rayon inside) while this thread stores
    // the ones before. At most two such groups are in flight, so memory
    // stays bounded by the batch size.
    std::thread::scope(|scope| {
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
        let me = queue::owner::me();
        let mut store_one = |queued: Vec<QueuedRow>| -> Result<()> {
            progress.inc(queued.len() as u64);
            timing::time(Phase::Queue, || {
                let tx = writer.begin()?;
                queue::insert_batch(tx, id, layout.kind, queued, &mut seen, &mut counts)?;
                // Every commit renews the heartbeat: a live owner's job is
                // never taken for abandoned.
                if testhook::batch_done(Stage::Stored) || writer.due() {
                    queue::heartbeat(tx, id, &me)?;
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
    })
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
