//! `numbatch resume`: process every queued or interrupted job, oldest first.

use super::{Config, Runner, report_summaries};
use crate::error::{ExitCode, Result};
use crate::queue;

pub fn run(config: &Config) -> Result<ExitCode> {
    let mut store = config.store()?;
    queue::sweep_abandoned(&store.conn)?;
    let runner = Runner::new(config);
    let jobs = queue::open_jobs(&store.conn)?;
    if jobs.is_empty() {
        config.note("nothing to resume: no job is queued or interrupted");
    }
    let mut summaries = Vec::new();
    for job in jobs {
        summaries.push(runner.run(&mut store, &job)?);
    }
    report_summaries(&summaries)
}
