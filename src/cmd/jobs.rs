//! `numbatch jobs` and `numbatch job ID`: the pending-actions view.

use super::Config;
use crate::error::{Error, ExitCode, Result};
use crate::queue::{self, Counts, Job};
use crate::report;
use crate::store::show_time;
use serde_json::{Value, json};

fn time(ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |t| Value::String(show_time(t)))
}

fn job_json(job: &Job, c: &Counts) -> Value {
    let paths = report::paths(job);
    json!({
        "id": job.id,
        "file": job.file,
        "stem": job.stem,
        "kind": job.kind,
        "state": job.state,
        "dry_run": job.dry_run,
        "origin": job.origin,
        "parent": job.parent,
        "rows": job.rows,
        // A dry run applies nothing: its rows that would apply count here, so
        // applied + unchanged + failed + pending is always rows.
        "applied": if job.dry_run { c.would_apply } else { c.applied },
        "unchanged": c.unchanged,
        "would_apply": c.would_apply,
        "failed": c.failed,
        "pending": c.pending,
        "created_at": time(Some(job.created_at)),
        "started_at": time(job.started_at),
        "finished_at": time(job.finished_at),
        "reports": if job.state == "done" {
            json!({
                "succeeded": paths.succeeded.display().to_string(),
                "failed": paths.failed.display().to_string(),
            })
        } else {
            Value::Null
        },
    })
}

pub fn list(config: &Config, as_json: bool) -> Result<ExitCode> {
    let store = config.store()?;
    let jobs = queue::jobs(&store.conn)?;
    let mut rows = Vec::with_capacity(jobs.len());
    for job in jobs {
        let c = queue::counts(&store.conn, job.id)?;
        rows.push((job, c));
    }
    if as_json {
        let all: Vec<Value> = rows.iter().map(|(j, c)| job_json(j, c)).collect();
        println!("{}", Value::Array(all));
        return Ok(ExitCode::Ok);
    }
    if rows.is_empty() {
        println!("no jobs yet: `numbatch run FILE` submits one");
        return Ok(ExitCode::Ok);
    }
    println!(
        "{:>5}  {:<8} {:<11} {:>7} {:>8} {:>9} {:>7} {:>7}  {:<19}  FILE",
        "ID", "STATE", "KIND", "ROWS", "APPLIED", "UNCHANGED", "FAILED", "PENDING", "FINISHED"
    );
    for (job, c) in &rows {
        let applied = if job.dry_run {
            c.would_apply
        } else {
            c.applied
        };
        let state = if job.dry_run {
            format!("{}*", job.state)
        } else {
            job.state.clone()
        };
        println!(
            "{:>5}  {:<8} {:<11} {:>7} {:>8} {:>9} {:>7} {:>7}  {:<19}  {}",
            job.id,
            state,
            job.kind.as_str(),
            job.rows,
            applied,
            c.unchanged,
            c.failed,
            c.pending,
            job.finished_at
                .map(show_time)
                .unwrap_or_else(|| "-".into())
                .trim_end_matches(" UTC"),
            crate::text::escape(&job.file)
        );
    }
    if rows.iter().any(|(j, _)| j.dry_run) {
        println!("* dry run: APPLIED counts the rows that would apply");
    }
    Ok(ExitCode::Ok)
}

pub fn one(config: &Config, id: i64, as_json: bool) -> Result<ExitCode> {
    let store = config.store()?;
    let job = queue::job(&store.conn, id)?.ok_or_else(|| {
        Error::NotFound(format!("there is no job {id}: `numbatch jobs` lists them"))
    })?;
    let c = queue::counts(&store.conn, id)?;
    let failures = queue::failures_by_code(&store.conn, id)?;
    if as_json {
        let mut v = job_json(&job, &c);
        v["failures"] = failures
            .iter()
            .map(|(code, n, ex)| {
                json!({
                    "code": code,
                    "count": n,
                    "examples": ex.iter().map(|(row, msg)| json!({"row": row, "error": msg})).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{v}");
        return Ok(ExitCode::Ok);
    }
    let applied = if job.dry_run {
        c.would_apply
    } else {
        c.applied
    };
    println!("job {} {}", job.id, crate::text::escape(&job.file));
    println!(
        "  kind:      {}{}",
        job.kind,
        if job.dry_run { " (dry run)" } else { "" }
    );
    println!("  state:     {}", job.state);
    println!(
        "  rows:      {}: {applied} {}, {} unchanged, {} failed, {} pending",
        job.rows,
        if job.dry_run {
            "would apply"
        } else {
            "applied"
        },
        c.unchanged,
        c.failed,
        c.pending
    );
    println!("  submitted: {}", show_time(job.created_at));
    if let Some(t) = job.started_at {
        println!("  started:   {}", show_time(t));
    }
    if let Some(t) = job.finished_at {
        println!("  finished:  {}", show_time(t));
        let p = report::paths(&job);
        println!("  reports:   {}", crate::text::path(&p.succeeded));
        println!("             {}", crate::text::path(&p.failed));
    }
    if !failures.is_empty() {
        println!("  failures by code:");
        for (code, n, examples) in &failures {
            println!("    {code:<24} {n:>7}");
            for (row, msg) in examples {
                println!("      row {row}: {}", crate::text::escape(msg));
            }
        }
    }
    Ok(ExitCode::Ok)
}
