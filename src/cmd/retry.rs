//! `numbatch retry ID`: the failed rows of a job, as the admin wrote them,
//! validated and run again as a new job.

use super::{Config, report_summaries};
use crate::cli::JobArgs;
use crate::error::{Error, ExitCode, Result};
use crate::pipeline;
use crate::queue::{self, NewJob, Origin, Status};
use crate::read::{Layout, RawRow};
use std::sync::atomic::AtomicBool;

pub fn run(config: &Config, id: i64, args: &JobArgs) -> Result<ExitCode> {
    let mut store = config.store()?;
    let job = queue::job(&store.conn, id)?.ok_or_else(|| {
        Error::NotFound(format!("there is no job {id}: `numbatch jobs` lists them"))
    })?;
    if job.state != "done" {
        return Err(Error::Usage(format!(
            "job {id} is still {}: let it finish (`numbatch resume`) before retrying its failed rows",
            job.state
        )));
    }
    // The failed rows are read first (they are few next to a whole file),
    // then queued as a job of their own.
    let mut rows = Vec::new();
    queue::each_row(&store.conn, id, Some(Status::Failed), |r| {
        rows.push(RawRow {
            row: r.row,
            cells: r.raw,
        });
        Ok(())
    })?;
    if rows.is_empty() {
        config.note(format!("job {id} has no failed rows: nothing to retry"));
        return Ok(ExitCode::Ok);
    }
    let options = args.options();
    let reports_dir = config.reports_dir()?;
    let stem = format!("{}-retry", job.stem);
    let sha = format!("retry:{id}:{}", crate::store::now_ms());
    let new = NewJob {
        file: &job.file,
        stem: &stem,
        sha256: &sha,
        kind: job.kind,
        dry_run: args.dry_run,
        options: &options,
        reports_dir: &reports_dir,
        origin: Origin::Retry,
        parent: Some(id),
    };
    let layout = Layout::template(job.kind);
    let new_id = pipeline::load(
        &mut store,
        &new,
        &layout,
        rows.into_iter().map(Ok),
        args.region,
    )?;
    let new_job = queue::job(&store.conn, new_id)?
        .ok_or_else(|| Error::Corrupt(format!("job {new_id} vanished")))?;
    let stop = AtomicBool::new(false);
    let summary = pipeline::run_job(
        &mut store,
        &new_job,
        &queue::owner::me(),
        config.quiet,
        &stop,
    )?;
    report_summaries(&[summary])
}
