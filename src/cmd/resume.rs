//! `numbatch resume`: process every queued or interrupted job, oldest first.

use super::{Config, Runner, report_summaries};
use crate::error::{ExitCode, Result};
use crate::pipeline::{self, Restaged};
use crate::queue;
use crate::text::escape;

pub fn run(config: &Config) -> Result<ExitCode> {
    let mut store = config.store()?;
    // Jobs whose process died while storing them are stored again first.
    for job in queue::loading_abandoned(&store.conn)? {
        let file = escape(&job.file);
        match pipeline::restage(&mut store, &job, config.max_file_bytes, config.quiet)? {
            Restaged::Queued => config.note(format!(
                "job {} ({file}) was interrupted while being stored: stored again from its file",
                job.id
            )),
            Restaged::Taken => {}
            Restaged::Discarded(why) => config.warn(format!(
                "job {} ({file}) was interrupted while being stored and is dropped: {why}",
                job.id
            )),
        }
    }
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
