//! The demo of fixtures/demo (see its EXPECTED.md), run end to end.

mod util;

use std::collections::BTreeSet;
use util::*;

/// The demo's five files, in the order the README runs them.
fn demo_files() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo");
    [
        "users",
        "numbers",
        "leavers",
        "retired-numbers",
        "assignments",
    ]
    .iter()
    .map(|f| format!("{dir}/{f}.csv"))
    .collect()
}

fn run_demo(wd: &Workdir) -> Run {
    let files = demo_files();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    wd.run_files(&files, &[])
}

#[test]
fn demo_exits_1_with_many_distinct_codes() {
    let wd = Workdir::new();
    let run = run_demo(&wd);
    run.assert_code(1);
    assert_eq!(run.jobs.len(), 5);
    let assignments = &run.jobs[4];
    assert_eq!(assignments.stem, "assignments");
    let codes: BTreeSet<String> = wd.codes(assignments).into_iter().map(|(_, c)| c).collect();
    assert!(codes.len() >= 10, "{codes:?}");
    // The first four files apply in full.
    for job in &run.jobs[..4] {
        assert!(wd.failed(job).is_empty(), "{job:?}: {:?}", wd.failed(job));
    }
}

#[test]
fn demo_matches_expected_md() {
    let wd = Workdir::new();
    let run = run_demo(&wd);
    run.assert_code(1);
    let counts: Vec<(u64, u64, u64, u64)> = run
        .jobs
        .iter()
        .map(|j| {
            let v = wd.job_json(j.id);
            let n = |k: &str| v[k].as_u64().unwrap();
            (n("rows"), n("applied"), n("unchanged"), n("failed"))
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            (41, 41, 0, 0),
            (91, 91, 0, 0),
            (1, 1, 0, 0),
            (2, 2, 0, 0),
            (74, 53, 2, 19)
        ]
    );
    let want: Vec<(u64, String)> = [
        (15, "MISSING_FIELD"),
        (18, "INVALID_UPN"),
        (22, "PLAN_LIMIT"),
        (34, "DUPLICATE_IN_FILE"),
        (35, "SPREADSHEET_MANGLED"),
        (36, "NOT_E164"),
        (37, "INVALID_NUMBER"),
        (38, "SERVICE_NUMBER"),
        (39, "NUMBER_RELEASED"),
        (40, "USER_HAS_PRIMARY"),
        (47, "COOLDOWN"),
        (50, "NOT_ASSIGNED_TO_USER"),
        (51, "NUMBER_ASSIGNED"),
        (55, "USER_NOT_VOICE_ENABLED"),
        (56, "COOLDOWN"),
        (72, "USER_NOT_FOUND"),
        (73, "USER_NOT_FOUND"),
        (74, "NUMBER_NOT_FOUND"),
        (75, "UNKNOWN_ACTION"),
    ]
    .iter()
    .map(|(r, c)| (*r, c.to_string()))
    .collect();
    let job = &run.jobs[4];
    assert_eq!(wd.codes(job), want);
    let unchanged: Vec<u64> = wd
        .outcomes(job)
        .into_iter()
        .filter(|(_, o)| o == "unchanged")
        .map(|(r, _)| r)
        .collect();
    assert_eq!(unchanged, [33, 46]);
    // The directory afterwards.
    let holdings = wd.holdings();
    assert_eq!(holdings.len(), 47);
    assert_eq!(holdings.values().filter(|(_, a)| a == "assign").count(), 37);
    assert_eq!(wd.users_now().len(), 40);
    assert_eq!(wd.numbers_now().len(), 91 - 2);
    assert_eq!(
        wd.held_by("megan.bowen@contoso.com"),
        (
            Some("+12125550105".into()),
            vec![
                "+12125550106".into(),
                "+12125550107".into(),
                "+12125550108".into(),
                "+12125550109".into()
            ]
        )
    );
    assert_eq!(
        wd.held_by("oliver.bennett@fabrikam.co.uk"),
        (
            Some("+441614960001".into()),
            vec!["+442079460001".into(), "+442079460002".into()]
        )
    );
    assert_eq!(
        wd.held_by("alex.wilber@contoso.com"),
        (Some("+12125550116".into()), vec![])
    );
    assert_eq!(
        wd.held_by("lea.becker@contoso.de"),
        (Some("+496990009001".into()), vec![])
    );
}

/// The counts `run` prints come from the pass that writes the reports, and
/// those of storing a file from storing it: both are what the queue holds.
#[test]
fn printed_counts_are_those_of_the_queue() {
    let wd = Workdir::new();
    let run = run_demo(&wd);
    run.assert_code(1);
    for job in &run.jobs {
        let v = wd.job_json(job.id);
        let n = |k: &str| v[k].as_u64().unwrap();
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("job {} ", job.id)))
            .unwrap_or_else(|| panic!("no summary of job {}: {}", job.id, run.stdout));
        let rows = match n("rows") {
            1 => "1 row".to_string(),
            r => format!("{r} rows"),
        };
        let counts = format!(
            ": {rows}: {} applied, {} unchanged, {} failed",
            n("applied"),
            n("unchanged"),
            n("failed")
        );
        assert!(line.ends_with(&counts), "{line} / {counts}");
    }
    // The assignments file: 74 rows, 7 of them failed the checks when stored.
    assert!(
        run.stderr
            .contains("(assignments file, 74 rows, 7 failed the checks)"),
        "{}",
        run.stderr
    );
}

/// A database in memory (`--db :memory:`) has no second connection to
/// write the reports from while the history is filed: its reports are
/// written all the same, byte for byte those of a database on disk.
#[test]
fn a_database_in_memory_gets_the_same_reports() {
    let wd = Workdir::new();
    run_demo(&wd).assert_code(1);
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_numbatch"))
        .current_dir(wd.root())
        .env_remove("NUMBATCH_DB")
        .args(["--db", ":memory:", "--reports", "in-memory", "run"])
        .args(demo_files())
        .output()
        .expect("run numbatch");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let names = |sub: &str| -> BTreeSet<String> {
        std::fs::read_dir(wd.path(sub))
            .expect("reports folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect()
    };
    let on_disk = names("reports");
    assert_eq!(on_disk.len(), 10, "{on_disk:?}");
    assert_eq!(names("in-memory"), on_disk);
    for name in &on_disk {
        assert_eq!(
            wd.read(&format!("in-memory/{name}")),
            wd.read(&format!("reports/{name}")),
            "{name}"
        );
    }
}

/// `run --dry-run` of several files simulates them in order, each seeing
/// what the ones before it would do: the demo's five dry runs say what its
/// real run does, row for row, and change nothing. So does one killed in
/// its last file and resumed.
#[test]
fn a_dry_run_of_several_files_simulates_them_in_order() {
    let real = Workdir::new();
    let real_run = run_demo(&real);
    real_run.assert_code(1);
    let files = demo_files();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let same_as_real = |dry: &Workdir| {
        for job in &real_run.jobs {
            assert_eq!(
                dry.report_text(job, "failed"),
                real.report_text(job, "failed"),
                "{job:?}"
            );
            let succeeded = dry.report_text(job, "succeeded");
            assert!(!succeeded.contains(",applied,"), "{succeeded}");
            assert_eq!(
                succeeded.replace(",would-apply,", ",applied,"),
                real.report_text(job, "succeeded"),
                "{job:?}"
            );
        }
        // Nothing changed: the directory is still empty.
        for kind in ["users", "numbers", "assignments"] {
            assert!(dry.export_recs(kind).is_empty(), "{kind}");
        }
    };
    let dry = Workdir::new();
    let dry_run = dry.run_files(&files, &["--dry-run"]);
    dry_run.assert_code(1);
    assert_eq!(dry_run.jobs, real_run.jobs);
    same_as_real(&dry);
    // In batches of 5 the first four files take 30 batches: killed after
    // the 35th, in the assignments file, whose resumed simulation must see
    // the four before it again.
    let cut = Workdir::new();
    let mut args = vec!["run"];
    args.extend_from_slice(&files);
    args.extend_from_slice(&["--dry-run", "--batch-size", "5"]);
    let out = cut
        .cmd(&args)
        .env("NUMBATCH_TEST_ABORT_AFTER_BATCHES", "35")
        .output()
        .expect("run numbatch");
    assert_eq!(out.status.code(), None, "killed, not exited: {out:?}");
    // Killed in the last file: the four before it are done.
    for (i, job) in real_run.jobs.iter().enumerate() {
        assert_eq!(
            cut.exists(&Workdir::report_name(job, "failed")),
            i < 4,
            "{job:?}"
        );
    }
    cut.exec(&["resume"]).assert_code(1);
    same_as_real(&cut);
}
