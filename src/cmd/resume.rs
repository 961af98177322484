//! `numbatch resume`: process every queued or interrupted job, oldest first.

use super::{Config, report_summaries};
use crate::error::{ExitCode, Result};
use crate::pipeline;
use crate::queue;
use std::sync::atomic::AtomicBool;

pub fn run(config: &Config) -> Result<ExitCode> {
    let mut store = config.store()?;
    queue::sweep_abandoned(&store.conn)?;
    let me = queue::owner::me();
    let stop = AtomicBool::new(false);
    let jobs = queue::open_jobs(&store.conn)?;
    if jobs.is_empty() {
        config.note("nothing to resume: no job is queued or interrupted");
    }
    let mut summaries = Vec::new();
    for job in jobs {
        summaries.push(pipeline::run_job(
            &mut store,
            &job,
            &me,
            config.quiet,
            &stop,
        )?);
    }
    report_summaries(&summaries)
}
