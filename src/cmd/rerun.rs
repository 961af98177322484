//! `numbatch retry ID` and `numbatch undo ID`: new jobs made from an
//! earlier one (its failed rows as written, or the reverse of its changes).

use super::{Config, Runner, report_summaries};
use crate::apply::rules;
use crate::batch::paged;
use crate::cli::JobArgs;
use crate::error::{Error, ExitCode, Result};
use crate::model::Kind;
use crate::pipeline;
use crate::queue::{self, Job, NewJob, Origin};
use crate::read::{Layout, RawRow};
use crate::store::{Store, directory};

const PAGE: usize = 500;

fn finished_job(store: &Store, id: i64, what: &str) -> Result<Job> {
    let job = queue::job(&store.conn, id)?.ok_or_else(|| {
        Error::NotFound(format!("there is no job {id}: `numbatch jobs` lists them"))
    })?;
    if job.state != "done" {
        return Err(Error::Usage(format!(
            "job {id} is still {}: let it finish (`numbatch resume`) before {what}",
            job.state
        )));
    }
    Ok(job)
}

pub fn retry(config: &Config, id: i64, args: &JobArgs) -> Result<ExitCode> {
    let mut store = config.store()?;
    let parent = finished_job(&store, id, "retrying its failed rows")?;
    if queue::counts(&store.conn, id)?.failed == 0 {
        config.note(format!("job {id} has no failed rows: nothing to retry"));
        return Ok(ExitCode::Ok);
    }
    // A second connection streams the failed rows while the first queues them.
    let reader = config.store()?;
    let rows = paged(
        0,
        |after| queue::failed_rows(&reader.conn, id, after, PAGE),
        |r: &RawRow| r.row,
    );
    run_derived(config, &mut store, &parent, Origin::Retry, rows, args)
}

pub fn undo(config: &Config, id: i64, args: &JobArgs) -> Result<ExitCode> {
    let mut store = config.store()?;
    let parent = finished_job(&store, id, "undoing it")?;
    if parent.kind != Kind::Assignments {
        return Err(Error::Usage(format!(
            "job {id} is a {} job: undo reverses assignments jobs only",
            parent.kind
        )));
    }
    if parent.dry_run {
        return Err(Error::Usage(format!(
            "job {id} was a dry run: it changed nothing to undo"
        )));
    }
    let reader = config.store()?;
    let changes = paged(
        i64::MAX,
        |before| directory::number_changes(&reader.conn, id, before, PAGE),
        |c: &directory::NumberChange| c.0,
    );
    // The reversing rows, numbered as the rows of a file would be.
    let mut row = 1;
    let rows = changes
        .map(|c| c.map(|(_, before, after)| rules::reverse(before.as_ref(), &after)))
        .flat_map(|ops| match ops {
            Ok(ops) => ops.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
        .map(move |op| {
            op.map(|op| {
                row += 1;
                RawRow {
                    row,
                    cells: op.cells(),
                }
            })
        });
    run_derived(config, &mut store, &parent, Origin::Undo, rows, args)
}

fn run_derived(
    config: &Config,
    store: &mut Store,
    parent: &Job,
    origin: Origin,
    rows: impl Iterator<Item = Result<RawRow>>,
    args: &JobArgs,
) -> Result<ExitCode> {
    let options = args.options();
    let reports_dir = config.reports_dir()?;
    let suffix = if origin == Origin::Undo {
        "undo"
    } else {
        "retry"
    };
    let stem = format!("{}-{suffix}", parent.stem);
    let sha = format!("{suffix}:{}:{}", parent.id, crate::store::now_ms());
    let new = NewJob {
        file: &parent.file,
        stem: &stem,
        sha256: &sha,
        kind: parent.kind,
        dry_run: args.dry_run,
        options: &options,
        reports_dir: &reports_dir,
        origin,
        parent: Some(parent.id),
    };
    let layout = Layout::template(parent.kind);
    let id = pipeline::load(store, &new, &layout, rows, args.region, config.quiet)?;
    config.note(format!("queued job {id}: {suffix} of job {}", parent.id));
    let summary = Runner::new(config).run_id(store, id)?;
    report_summaries(&[summary])
}
