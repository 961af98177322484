//! `undo`, runtime failures (exit 3) and batch-size independence.

mod util;

use util::*;

/// The id of the newest job.
fn last_job(wd: &Workdir) -> i64 {
    wd.jobs().last().expect("a job")["id"].as_i64().expect("id")
}

#[test]
fn undo_reverses_a_job_newest_change_first() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[
        &format!("{ALICE},{},assign", uk(1)),
        &format!("{BOB},{},assign", uk(2)),
    ]);
    let before = wd.export("assignments");
    // One job that gives, moves, swaps and takes numbers.
    let run = wd.assignments(
        "changes.csv",
        &[
            &format!("{ALICE},{},add", uk(3)),
            &format!("{CAROL},{},reassign", uk(2)),
            &format!("{ALICE},{},swap", uk(4)),
            &format!(",{},unassign", uk(3)),
        ],
        &["--cooldown", "0"],
    );
    run.assert_code(0);
    let job = run.job().id;
    assert_ne!(wd.export("assignments"), before);
    let undo = wd.numbatch(&["undo", &job.to_string(), "--cooldown", "0"]);
    undo.assert_code(0);
    assert_eq!(
        wd.export("assignments"),
        before,
        "undo restores the directory"
    );
    let undo_job = undo.job();
    let report = Workdir::report_name(undo_job, "succeeded");
    assert!(report.ends_with("-changes-undo.succeeded.csv"), "{report}");
    // The undo of the undo applies the changes again.
    let again = wd.numbatch(&["undo", &undo_job.id.to_string(), "--cooldown", "0"]);
    again.assert_code(0);
    assert_eq!(
        wd.held_by(ALICE).0,
        Some(uk(4)),
        "ALICE's primary is the swapped-in number"
    );
}

#[test]
fn undo_rows_that_later_jobs_made_impossible_fail_with_the_normal_codes() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "give.csv",
        &[&format!("{ALICE},{},assign", uk(5))],
        &["--cooldown", "0"],
    );
    run.assert_code(0);
    let job = run.job().id;
    // Later, the number moves on to BOB.
    wd.assignments(
        "move.csv",
        &[&format!("{BOB},{},reassign", uk(5))],
        &["--cooldown", "0"],
    )
    .assert_code(0);
    let undo = wd.numbatch(&["undo", &job.to_string(), "--cooldown", "0"]);
    undo.assert_code(1);
    let codes = wd.codes(undo.job());
    assert_eq!(codes, vec![(2, "NOT_ASSIGNED_TO_USER".to_string())]);
    let failed = wd.failed(undo.job());
    assert!(failed[0]["Error"].contains(BOB), "{:?}", failed[0]);
    assert_eq!(wd.held_by(BOB).0, Some(uk(5)), "nothing changed");
}

#[test]
fn undo_refuses_what_it_cannot_reverse() {
    let wd = Workdir::new();
    wd.setup_directory();
    let users = last_job(&wd);
    let run = wd.exec(&["undo", &users.to_string()]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("assignments jobs only"),
        "{}",
        run.stderr
    );
    wd.exec(&["undo", "999"]).assert_code(2);
}

#[test]
fn a_reports_folder_that_cannot_be_made_is_exit_3_and_resume_finishes_the_job() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.create("blocker", "a file where the reports folder should be\n");
    wd.create(
        "a.csv",
        &csv_text(ASSIGNMENTS_HEADER, &[&format!("{ALICE},{},assign", uk(6))]),
    );
    let run = wd.exec(&["--reports", "blocker", "run", "a.csv", "--cooldown", "0"]);
    run.assert_code(3);
    assert!(run.stderr.contains("blocker"), "{}", run.stderr);
    assert!(run.stderr.contains("resume"), "{}", run.stderr);
    // The rows were applied and kept; the job waits for its reports.
    let job = wd.jobs().last().cloned().expect("a job");
    assert_eq!(job["state"], "running");
    assert_eq!(job["applied"], 1);
    assert_eq!(wd.held_by(ALICE).0, Some(uk(6)));
    std::fs::remove_file(wd.path("blocker")).expect("remove");
    let resume = wd.exec(&["resume"]);
    resume.assert_code(0);
    let job = wd.jobs().last().cloned().expect("a job");
    assert_eq!(job["state"], "done");
    let id = job["id"].as_i64().expect("id");
    assert!(wd.exists(&format!("blocker/{id}-a.succeeded.csv")));
    assert!(wd.exists(&format!("blocker/{id}-a.failed.csv")));
}

#[test]
fn a_database_that_cannot_be_opened_is_exit_3() {
    let wd = Workdir::new();
    let garbage = "this is not SQLite, and long enough to have a header page ".repeat(100);
    std::fs::write(wd.db(), garbage).expect("write");
    let run = wd.exec(&["jobs"]);
    run.assert_code(3);
    assert!(run.stderr.contains("database"), "{}", run.stderr);
}

/// A file that exercises every action, duplicates and failures.
fn mixed_rows() -> Vec<String> {
    let mut rows = Vec::new();
    for i in 0..60u32 {
        let who = [ALICE, BOB, CAROL, DAVE, ERIN][(i % 5) as usize];
        let action = ["assign", "add", "add", "unassign", "swap", "reassign", ""][(i % 7) as usize];
        let number = if i % 13 == 7 {
            NOT_IN_INVENTORY.to_string()
        } else {
            uk(10 + i % 25)
        };
        rows.push(format!("{who},{number},{action}"));
    }
    rows
}

#[test]
fn reports_and_export_do_not_depend_on_the_batch_size() {
    let rows = mixed_rows();
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let mut results = Vec::new();
    for batch in ["1", "7", "500"] {
        let wd = Workdir::new();
        wd.setup_directory();
        let run = wd.assignments(
            "mixed.csv",
            &refs,
            &["--batch-size", batch, "--cooldown", "0"],
        );
        run.assert_code(1);
        let job = run.job();
        results.push((
            wd.export("assignments"),
            wd.report_text(job, "succeeded"),
            wd.report_text(job, "failed"),
        ));
    }
    assert!(results[0].2.lines().count() > 1, "some rows fail");
    assert_eq!(results[0], results[1], "batch size 1 vs 7");
    assert_eq!(results[0], results[2], "batch size 1 vs 500");
}
