//! `numbatch watch DIR`: the drop folder. Admins drop CSV files into
//! `DIR/inbox`; each is taken once it has stopped changing, moved to
//! `processing` while its job runs, then to `done` (or `rejected`, with a
//! `NAME.error.txt` saying why). Reports go to `DIR/reports`.
//!
//! A file in `processing` is worked on only under an exclusive lock on the
//! file itself, so two watchers never take the same file, and a file left
//! there by a watcher that died (its lock gone with it) is picked up again by
//! any watcher: its job resumes where it stopped.

use super::{Config, Runner};
use crate::cli::JobArgs;
use crate::error::{Error, ExitCode, Result};
use crate::model::Kind;
use crate::pipeline::{self, End, Restaged};
use crate::queue;
use crate::read;
use crate::store::{Store, now_ms, show_time};
use crate::text::escape;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

pub struct WatchArgs<'a> {
    pub dir: &'a Path,
    pub once: bool,
    pub settle: Duration,
    pub interval: Duration,
    pub job: &'a JobArgs,
}

struct Folders {
    inbox: PathBuf,
    processing: PathBuf,
    done: PathBuf,
    rejected: PathBuf,
    reports: PathBuf,
}

impl Folders {
    /// Creates the folders (and the templates) and checks they can be written.
    fn create(dir: &Path) -> Result<Folders> {
        let sub = |name: &str| dir.join(name);
        let f = Folders {
            inbox: sub("inbox"),
            processing: sub("processing"),
            done: sub("done"),
            rejected: sub("rejected"),
            reports: sub("reports"),
        };
        let setup = |path: &Path, e: std::io::Error| {
            Error::Usage(format!(
                "cannot set up the drop folder {}: {e} (is it writable?)",
                crate::text::path(path)
            ))
        };
        let templates = sub("templates");
        for d in [
            &f.inbox,
            &f.processing,
            &f.done,
            &f.rejected,
            &f.reports,
            &templates,
        ] {
            std::fs::create_dir_all(d).map_err(|e| setup(d, e))?;
            let probe = d.join(format!(".numbatch-probe-{}", std::process::id()));
            std::fs::write(&probe, b"").map_err(|e| setup(d, e))?;
            std::fs::remove_file(&probe).map_err(|e| setup(d, e))?;
        }
        for kind in Kind::ALL {
            let path = templates.join(format!("{kind}.csv"));
            std::fs::write(&path, kind.template()).map_err(|e| setup(&path, e))?;
        }
        Ok(f)
    }
}

/// One line per event, on standard error, with the time.
fn log(msg: impl AsRef<str>) {
    eprintln!("{}  {}", show_time(now_ms()), msg.as_ref());
}

/// Only what an admin means to hand over: regular `.csv` files, not hidden,
/// not spreadsheet lock files (`~$...`), not links.
fn is_candidate(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if name.starts_with('.') || name.starts_with("~$") || name.starts_with('~') {
        return false;
    }
    let csv = Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    csv && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

/// A name in `dir` that is not taken yet: `name.csv`, `name-1.csv`, ...
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    if !path.exists() {
        return path;
    }
    let p = Path::new(name);
    let stem = p
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let ext = p
        .extension()
        .map_or_else(String::new, |e| format!(".{}", e.to_string_lossy()));
    (1..)
        .map(|i| dir.join(format!("{stem}-{i}{ext}")))
        .find(|p| !p.exists())
        .unwrap_or(path)
}

fn file_name(path: &Path) -> String {
    escape(
        &path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
    )
}

/// Files seen in the inbox, with what they looked like and since when.
type Seen = HashMap<PathBuf, ((u64, Option<SystemTime>), Instant)>;

pub fn run(config: &Config, args: &WatchArgs<'_>) -> Result<ExitCode> {
    if args.job.dry_run {
        return Err(Error::Usage(
            "watch applies the files it is given: --dry-run is for run and submit".to_string(),
        ));
    }
    // Canonical, so the jobs' report folder does not depend on where a later
    // `resume` runs, nor on the path the watcher was started with.
    let folders = Folders::create(args.dir)?;
    let dir = args
        .dir
        .canonicalize()
        .map_err(|e| Error::io(args.dir, e))?;
    let folders = Folders {
        reports: dir.join("reports"),
        ..folders
    };
    let mut store = config.store()?;
    let runner = Runner::new(config).without_progress();
    let stop = runner.stop_flag();
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, runner.stop_flag())
            .map_err(|e| Error::Usage(format!("cannot handle signals: {e}")))?;
    }
    log(format!(
        "watching {} (drop .csv files into inbox; Ctrl-C stops after the current batch)",
        crate::text::path(args.dir)
    ));
    let mut seen: Seen = HashMap::new();
    let mut any_failed = false;
    loop {
        // Work left in processing: just taken, ours after a restart, or a
        // dead watcher's.
        let mut blocked = false;
        for path in list(&folders.processing)? {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            match process(
                &mut store,
                &runner,
                &folders,
                &path,
                args.job,
                config.max_file_bytes,
            )? {
                Step::Blocked => blocked = true,
                Step::Failed => any_failed = true,
                Step::Handled => {}
            }
        }
        if stop.load(Ordering::Relaxed) {
            log("stopped");
            return Ok(ExitCode::Ok);
        }
        let (taken, settling) = take_settled(&folders, &mut seen, args.settle)?;
        if taken {
            continue;
        }
        if args.once && !settling && !blocked {
            return Ok(if any_failed {
                ExitCode::RowsFailed
            } else {
                ExitCode::Ok
            });
        }
        sleep(args.interval, &stop);
    }
}

/// What became of a file in processing.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Done with every row applied or unchanged, or stopped on request.
    Handled,
    /// Done with failed rows, or rejected as a whole.
    Failed,
    /// Another process holds it (its lock, or its job): try again later.
    Blocked,
}

fn sleep(d: Duration, stop: &AtomicBool) {
    let until = Instant::now() + d;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50).min(d));
    }
}

/// The candidate files of a folder, oldest first (the order they were
/// dropped in), then by name.
fn list(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if is_candidate(&path) {
            let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
            out.push((modified, path));
        }
    }
    out.sort();
    Ok(out.into_iter().map(|(_, p)| p).collect())
}

/// Moves the inbox files that stopped changing into processing. Returns
/// whether any was taken, and whether some are still settling.
fn take_settled(folders: &Folders, seen: &mut Seen, settle: Duration) -> Result<(bool, bool)> {
    let now = Instant::now();
    let files = list(&folders.inbox)?;
    seen.retain(|p, _| files.contains(p));
    let mut waiting = false;
    let mut taken = false;
    for path in files {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let look = (meta.len(), meta.modified().ok());
        let since = match seen.get(&path) {
            Some((before, since)) if *before == look => *since,
            _ => {
                seen.insert(path.clone(), (look, now));
                now
            }
        };
        // Taken only once seen unchanged for the whole settle time: the
        // modification time alone cannot be trusted (a file server's clock).
        if now.duration_since(since) < settle {
            waiting = true;
            continue;
        }
        let target = free_name(&folders.processing, &file_name(&path));
        // Atomic: of several watchers, one wins; the others see it gone.
        if std::fs::rename(&path, &target).is_ok() {
            seen.remove(&path);
            taken = true;
            log(format!("taken {}", file_name(&path)));
        }
    }
    Ok((taken, waiting))
}

/// Works on one file in processing, under its lock.
fn process(
    store: &mut Store,
    runner: &Runner,
    folders: &Folders,
    path: &Path,
    job_args: &JobArgs,
    max_file_bytes: u64,
) -> Result<Step> {
    let Ok(file) = File::open(path) else {
        return Ok(Step::Handled); // gone: another watcher finished it
    };
    if file.try_lock().is_err() {
        return Ok(Step::Blocked); // another watcher has it
    }
    if !path.exists() {
        return Ok(Step::Handled); // another watcher finished it meanwhile
    }
    let name = file_name(path);
    let reports_dir = folders.reports.display().to_string();
    let source = match read::open(path, None, max_file_bytes) {
        Ok(s) => s,
        Err(e) => {
            reject(folders, path, &e.to_string())?;
            return Ok(Step::Failed);
        }
    };
    let summary = match queue::same_content(&store.conn, &source.sha256)? {
        // Done: this content was processed before (or this very file, by a
        // watcher killed before it could move it on).
        Some(job) if job.state == "done" => {
            let note = format!(
                "the same content was already processed as job {} ({}); `numbatch retry {}` runs its failed rows again",
                job.id,
                escape(&job.file),
                job.id
            );
            let dest = finish(folders, path)?;
            let note_path = dest.with_extension("note.txt");
            std::fs::write(&note_path, format!("{note}\n"))
                .map_err(|e| Error::io(&note_path, e))?;
            log(format!("done {name}: {note}"));
            return Ok(Step::Handled);
        }
        // Not done: this file's job, left by a watcher that stopped or died
        // (or a copy of a file still being worked on: it waits its turn).
        Some(job) => runner.run(store, &job)?,
        None => {
            // Being stored by another process (a `resume` storing again
            // what this watcher left half-stored when it died): its turn.
            let now = now_ms();
            let loading = queue::loading_of(&store.conn, &source.sha256)?;
            if loading.iter().any(|j| j.owner_alive(now)) {
                return Ok(Step::Blocked);
            }
            // Left half-stored by a watcher that died (this one, say):
            // stored again as that same job, which keeps its reports' names.
            let mut restaged = None;
            if let Some(job) = loading.first() {
                match pipeline::restage(store, job, max_file_bytes, true)?.1 {
                    Restaged::Queued => {
                        log(format!(
                            "{name}: job {} was interrupted while being stored: stored again",
                            job.id
                        ));
                        restaged = Some(job.id);
                    }
                    Restaged::Taken => return Ok(Step::Blocked),
                    Restaged::Discarded(_) => {} // stored anew below
                }
            }
            let id = match restaged {
                Some(id) => id,
                None => {
                    let staged =
                        pipeline::stage_file(store, &source, job_args, None, &reports_dir, true)
                            .and_then(|staged| staged.queue(store));
                    match staged {
                        Ok(id) => id,
                        Err(Error::File(e)) => {
                            reject(folders, path, &e.to_string())?;
                            return Ok(Step::Failed);
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            runner.run_id(store, id)?
        }
    };
    let id = summary.job.id;
    let reports = match summary.end {
        End::Busy => return Ok(Step::Blocked),
        End::Stopped => {
            log(format!(
                "stopped {name} (job {id}): the next start resumes it"
            ));
            return Ok(Step::Handled);
        }
        End::Finished(reports) => reports,
    };
    finish(folders, path)?;
    let c = summary.counts;
    log(format!(
        "done {name}: job {id}: {} applied, {} unchanged, {} failed (reports: {})",
        c.applied,
        c.unchanged,
        c.failed,
        crate::text::path(&reports.failed)
    ));
    Ok(if c.failed > 0 {
        Step::Failed
    } else {
        Step::Handled
    })
}

/// Moves a processed file to done (never over another file).
fn finish(folders: &Folders, path: &Path) -> Result<PathBuf> {
    let dest = free_name(&folders.done, &file_name(path));
    std::fs::rename(path, &dest).map_err(|e| Error::io(path, e))?;
    Ok(dest)
}

/// Moves a file that cannot be read as a whole to rejected, with the reason.
fn reject(folders: &Folders, path: &Path, why: &str) -> Result<()> {
    let dest = free_name(&folders.rejected, &file_name(path));
    std::fs::rename(path, &dest).map_err(|e| Error::io(path, e))?;
    let note = dest.with_extension("error.txt");
    std::fs::write(&note, format!("{why}\n")).map_err(|e| Error::io(&note, e))?;
    log(format!("rejected {}: {why}", file_name(path)));
    Ok(())
}
