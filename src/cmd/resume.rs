//! `numbatch resume`: process every queued or interrupted job, oldest first.

use super::{Config, Runner, report_summaries};
use crate::error::{ExitCode, Result};
use crate::pipeline::{self, Restaged};
use crate::queue;
use crate::text::escape;

pub fn run(config: &Config) -> Result<ExitCode> {
    let mut store = config.store()?;
    // Jobs whose process died while storing them are stored again first.
    let mut dealt: Vec<i64> = Vec::new();
    let mut dropped = false;
    for job in queue::loading_abandoned(&store.conn)? {
        if dealt.contains(&job.id) {
            continue; // stored again (or dropped) with its group
        }
        let (jobs, outcome) =
            pipeline::restage(&mut store, &job, config.max_file_bytes, config.quiet)?;
        for j in &jobs {
            let file = escape(&j.file);
            match &outcome {
                Restaged::Queued => config.note(format!(
                    "job {} ({file}) was interrupted while being stored: stored again from its file",
                    j.id
                )),
                Restaged::Taken => {}
                Restaged::Discarded(why) => config.warn(format!(
                    "job {} ({file}) was interrupted while being stored and is dropped: {why}",
                    j.id
                )),
            }
        }
        dropped |= matches!(outcome, Restaged::Discarded(_));
        dealt.extend(jobs.iter().map(|j| j.id));
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
    let code = report_summaries(&summaries)?;
    // A dropped job's file did not run: as a file rejected as a whole when
    // nothing else ran, else as rows that did not apply.
    Ok(match (dropped, summaries.is_empty()) {
        (true, true) => ExitCode::Rejected,
        (true, false) => code.max(ExitCode::RowsFailed),
        (false, _) => code,
    })
}
