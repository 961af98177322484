//! One module per command: arguments in, work, output out.

pub mod export;
pub mod jobs;
pub mod rerun;
pub mod resume;
pub mod show;
pub mod submit;
pub mod template;
pub mod watch;

use crate::cli::{Cli, Command, JobArgs};
use crate::error::{Error, ExitCode, Result};
use crate::pipeline::{End, Summary};
use crate::queue::JobOptions;
use crate::store::Store;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// The settings every command shares.
pub struct Config {
    pub db: PathBuf,
    pub reports: PathBuf,
    pub quiet: bool,
    /// The largest file taken, in bytes.
    pub max_file_bytes: u64,
}

impl Config {
    pub fn store(&self) -> Result<Store> {
        Store::open(&self.db)
    }

    /// A note for the admin on standard error (not with --quiet).
    pub fn note(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// A notice on standard error that even --quiet keeps: something the
    /// admin asked for was not done (a file skipped).
    pub fn warn(&self, msg: impl AsRef<str>) {
        eprintln!("{}", msg.as_ref());
    }

    /// The reports folder as stored with a job: absolute, so `resume` from
    /// another folder writes to the same place.
    pub fn reports_dir(&self) -> Result<String> {
        let dir = if self.reports.is_absolute() {
            self.reports.clone()
        } else {
            std::env::current_dir()
                .map_err(|e| Error::io(&self.reports, e))?
                .join(&self.reports)
        };
        Ok(dir.display().to_string())
    }
}

impl JobArgs {
    pub fn options(&self) -> JobOptions {
        JobOptions {
            batch_size: usize::from(self.batch_size),
            region: self.region.map(|r| format!("{r:?}")),
            cooldown_ms: self.cooldown,
            group: None,
            source: None,
        }
    }
}

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    let config = Config {
        db: cli.db,
        reports: cli.reports,
        quiet: cli.quiet,
        max_file_bytes: cli.max_file_size.saturating_mul(1024 * 1024),
    };
    match cli.command {
        Command::Template { kind, output } => template::run(kind.into(), output.as_deref()),
        Command::Run(args) => submit::run(&config, &args, true),
        Command::Submit(args) => submit::run(&config, &args, false),
        Command::Resume => resume::run(&config),
        Command::Watch {
            dir,
            once,
            settle,
            interval,
            job,
        } => watch::run(
            &config,
            &watch::WatchArgs {
                dir: &dir,
                once,
                settle: seconds(settle)?,
                interval: seconds(interval)?,
                job: &job,
            },
        ),
        Command::Jobs { json } => jobs::list(&config, json),
        Command::Job { id, json } => jobs::one(&config, id, json),
        Command::Retry { id, job } => rerun::retry(&config, id, &job),
        Command::Undo { id, job } => rerun::undo(&config, id, &job),
        Command::Export { kind, output } => export::run(&config, kind.into(), output.as_deref()),
        Command::Show { subject, json } => show::run(&config, &subject, json),
    }
}

fn seconds(s: f64) -> Result<std::time::Duration> {
    std::time::Duration::try_from_secs_f64(s)
        .map_err(|_| Error::Usage(format!("{s} is not a number of seconds")))
}

/// Runs jobs for one command: one owner name and one stop flag for all.
pub struct Runner {
    me: String,
    quiet: bool,
    stop: Arc<AtomicBool>,
}

impl Runner {
    pub fn new(config: &Config) -> Runner {
        Runner {
            me: crate::queue::owner::me(),
            quiet: config.quiet,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// No progress bars (the drop folder logs its own lines).
    pub fn without_progress(mut self) -> Runner {
        self.quiet = true;
        self
    }

    /// The flag that stops the jobs between batches (set by a signal).
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    pub fn run(&self, store: &mut Store, job: &crate::queue::Job) -> Result<Summary> {
        crate::pipeline::run_job(store, job, &self.me, self.quiet, &self.stop)
    }

    /// Runs a job just queued by this command.
    pub fn run_id(&self, store: &mut Store, id: i64) -> Result<Summary> {
        let job = crate::queue::job(&store.conn, id)?
            .ok_or_else(|| Error::Corrupt(format!("job {id} vanished")))?;
        self.run(store, &job)
    }
}

/// Prints what became of the jobs a command ran; the exit code follows.
pub fn report_summaries(summaries: &[Summary]) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for s in summaries {
        let c = &s.counts;
        let verb = if s.job.dry_run {
            "would apply"
        } else {
            "applied"
        };
        let applied = if s.job.dry_run {
            c.would_apply
        } else {
            c.applied
        };
        let dry = if s.job.dry_run { " (dry run)" } else { "" };
        let _ = write!(
            out,
            "job {} {}{dry}: {}: {applied} {verb}, {} unchanged, {} failed",
            s.job.id,
            crate::text::escape(&s.job.file),
            crate::text::count(s.job.rows, "row"),
            c.unchanged,
            c.failed
        );
        match &s.end {
            End::Busy => {
                let _ = writeln!(
                    out,
                    "; {} pending (another numbatch process is running it)",
                    c.pending
                );
            }
            End::Stopped => {
                let _ = writeln!(
                    out,
                    "; {} pending (stopped: `numbatch resume` continues)",
                    c.pending
                );
            }
            End::Finished(p) => {
                let _ = writeln!(out);
                let _ = writeln!(out, "  succeeded: {}", crate::text::path(&p.succeeded));
                let _ = writeln!(out, "  failed:    {}", crate::text::path(&p.failed));
            }
        }
        failed |= c.failed > 0;
    }
    let _ = out.flush();
    Ok(if failed {
        ExitCode::RowsFailed
    } else {
        ExitCode::Ok
    })
}
