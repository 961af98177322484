//! `numbatch run FILE...` and `numbatch submit FILE...`

use super::{Config, Runner, report_summaries};
use crate::cli::SubmitArgs;
use crate::error::{Error, ExitCode, Result};
use crate::pipeline;
use crate::queue::{self, Group};
use crate::read::{self, Source};
use crate::store::Store;

pub fn run(config: &Config, args: &SubmitArgs, process: bool) -> Result<ExitCode> {
    // Every file's header is checked before any is queued.
    let forced = args.kind.map(Into::into);
    let mut sources = Vec::new();
    let mut rejected = Vec::new();
    for path in &args.files {
        match read::open(path, forced, config.max_file_bytes) {
            Ok(source) => sources.push(source),
            Err(e) => rejected.push(e),
        }
    }
    if !rejected.is_empty() {
        for e in &rejected {
            eprintln!("numbatch: {e}");
        }
        let msg = if args.files.len() > 1 {
            "nothing was queued: fix the file(s) above and run again"
        } else {
            "nothing was queued"
        };
        return Err(Error::Usage(msg.to_string()));
    }
    let mut store = config.store()?;
    let runner = Runner::new(config);
    let mut summaries = Vec::new();
    if process {
        // Jobs a dead process left half done are finished first: they came first.
        for job in queue::open_jobs(&store.conn)? {
            if job.state == "running" && !job.owner_alive(crate::store::now_ms()) {
                config.note(format!(
                    "resuming job {} ({}), interrupted earlier",
                    job.id,
                    crate::text::escape(&job.file)
                ));
                summaries.push(runner.run(&mut store, &job)?);
            }
        }
    }
    // The files to store: not those already submitted, nor the same
    // content twice in this command.
    let mut chosen: Vec<&Source> = Vec::new();
    for source in &sources {
        if chosen.iter().any(|c| c.sha256 == source.sha256) {
            config.warn(format!(
                "{}: skipped: the same content as a file given earlier in this command",
                crate::text::path(&source.path)
            ));
        } else if !already_submitted(config, &store, source, args)? {
            chosen.push(source);
        }
    }
    // Several files are one group: queued all or none, stored again by
    // `resume` all or none, and a dry run of them is one simulation.
    let group = (chosen.len() > 1).then(|| Group {
        key: format!("{}:{}", queue::owner::me(), crate::store::now_ms()),
        jobs: chosen.len(),
    });
    // Every file is read and stored whole before any is queued: a file
    // rejected part-way (an unclosed quote on row 900) leaves none queued.
    let mut staged: Vec<pipeline::Staged> = Vec::new();
    for source in chosen {
        match stage_one(config, &mut store, source, args, group.as_ref()) {
            Ok(s) => staged.push(s),
            Err(e) => {
                for s in &staged {
                    s.discard(&store);
                }
                if let Error::File(_) = e {
                    eprintln!("numbatch: {e}");
                    return Err(Error::Usage("nothing was queued".to_string()));
                }
                return Err(e);
            }
        }
    }
    let mut ids = Vec::with_capacity(staged.len());
    for s in &staged {
        ids.push(s.queue(&store)?);
    }
    for id in ids {
        if process {
            summaries.push(runner.run_id(&mut store, id)?);
        } else {
            println!("{id}");
        }
    }
    if process {
        report_summaries(&summaries)
    } else {
        Ok(ExitCode::Ok)
    }
}

/// Whether a file's content was submitted before (not counting dry runs):
/// then it is skipped, saying so, unless `--force` (or this is a dry run).
fn already_submitted(
    config: &Config,
    store: &Store,
    source: &Source,
    args: &SubmitArgs,
) -> Result<bool> {
    if args.force || args.job.dry_run {
        return Ok(false);
    }
    // Being stored right now by another process (the same file run twice at
    // once): that one will run it.
    let now = crate::store::now_ms();
    if let Some(other) = queue::loading_of(&store.conn, &source.sha256)?
        .into_iter()
        .find(|j| j.owner_alive(now))
    {
        config.warn(format!(
            "{}: skipped: the same content is being submitted as job {} ({}) by another process, which will run it; \
             to run it again anyway use --force",
            crate::text::path(&source.path),
            other.id,
            crate::text::escape(&other.file),
        ));
        return Ok(true);
    }
    let Some(earlier) = queue::same_content(&store.conn, &source.sha256)? else {
        return Ok(false);
    };
    let how = if earlier.state == "done" {
        format!(
            "`numbatch retry {}` to run its failed rows again",
            earlier.id
        )
    } else {
        "`numbatch resume` to finish it".to_string()
    };
    config.warn(format!(
        "{}: skipped: the same content was already submitted as job {} ({}, {}); \
         to run it again anyway use --force, or {how}",
        crate::text::path(&source.path),
        earlier.id,
        crate::text::escape(&earlier.file),
        earlier.state,
    ));
    Ok(true)
}

/// Stores one file as a job.
fn stage_one(
    config: &Config,
    store: &mut Store,
    source: &Source,
    args: &SubmitArgs,
    group: Option<&Group>,
) -> Result<pipeline::Staged> {
    let shown = crate::text::path(&source.path);
    let reports_dir = config.reports_dir()?;
    let staged = pipeline::stage_file(store, source, &args.job, group, &reports_dir, config.quiet)?;
    let (id, counts) = (staged.id, staged.counts);
    config.note(format!(
        "job {id}: {shown} ({} file, {}{})",
        source.kind(),
        crate::text::count(counts.pending + counts.failed, "row"),
        if counts.failed > 0 {
            format!(", {} failed the checks", counts.failed)
        } else {
            String::new()
        }
    ));
    Ok(staged)
}
