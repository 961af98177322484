//! The commands of SPEC §4 and the exit codes of SPEC §6.

mod util;

use serde_json::Value;
use util::*;

// ---- exit codes ---------------------------------------------------------------------

#[test]
fn exit_0_when_every_row_applies_or_is_unchanged() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[&format!("{ALICE},{},assign", uk(1))]);
    let run = wd.assignments(
        "a.csv",
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!("{BOB},{},assign", uk(2)),
        ],
        &[],
    );
    run.assert_code(0);
    assert_eq!(
        wd.outcomes(run.job()),
        vec![(2, "unchanged".into()), (3, "applied".into())]
    );
}

#[test]
fn exit_1_when_some_rows_fail() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "a.csv",
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!("{ERIN},{},assign", uk(2)),
        ],
        &[],
    );
    run.assert_code(1);
    // The job ran to the end: the good row applied.
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
    assert_eq!(wd.job_json(run.job().id)["state"], "done");
}

#[test]
fn exit_2_for_bad_usage() {
    let wd = Workdir::new();
    wd.create(
        "a.csv",
        &csv_text(ASSIGNMENTS_HEADER, &[&format!("{ALICE},{},assign", uk(1))]),
    );
    let cases: &[&[&str]] = &[
        &["frobnicate"],
        &["run"],
        &["template"],
        &["template", "phones"],
        &["export", "everything"],
        &["run", "a.csv", "--batch-size", "0"],
        &["run", "a.csv", "--batch-size", "501"],
        &["run", "a.csv", "--batch-size", "many"],
        &["run", "a.csv", "--region", "Narnia"],
        &["run", "a.csv", "--no-such-flag"],
        &["job", "not-a-number"],
    ];
    for args in cases {
        let run = wd.exec(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(!run.stderr.trim().is_empty(), "{args:?}: nothing on stderr");
    }
    // Nothing was queued by any of them.
    assert!(wd.jobs().is_empty());
}

#[test]
fn batch_size_bounds_are_accepted() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "a.csv",
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!("{BOB},{},assign", uk(2)),
            &format!("{CAROL},{},assign", uk(3)),
        ],
        &["--batch-size", "1"],
    );
    run.assert_code(0);
    assert_eq!(wd.outcomes(run.job()).len(), 3);
    let run = wd.assignments(
        "b.csv",
        &[&format!("{DAVE},{},assign", uk(4))],
        &["--batch-size", "500"],
    );
    run.assert_code(0);
    assert_eq!(wd.held_by(DAVE), (Some(uk(4)), vec![]));
}

#[test]
fn exit_2_for_a_missing_file_naming_it() {
    let wd = Workdir::new();
    let run = wd.numbatch(&["run", "no-such-file.csv"]);
    run.assert_code(2);
    assert!(run.stderr.contains("no-such-file.csv"), "{}", run.stderr);
    assert!(run.jobs.is_empty());
}

#[test]
fn exit_2_for_a_folder() {
    let wd = Workdir::new();
    std::fs::create_dir(wd.path("folder.csv")).unwrap();
    let run = wd.numbatch(&["run", "folder.csv"]);
    run.assert_code(2);
    assert!(run.stderr.contains("folder.csv"), "{}", run.stderr);
}

#[test]
fn one_rejected_file_queues_none_of_them() {
    let wd = Workdir::new();
    wd.create(
        "users.csv",
        &csv_text(USERS_HEADER, &["zed@contoso.com,Zed,,,"]),
    );
    wd.create(
        "numbers.csv",
        &csv_text(NUMBERS_HEADER, &["+442079460050,,"]),
    );
    wd.create(
        "bad.csv",
        "UserPrincipalName,PhoneNumber,Colour\nzed@contoso.com,+442079460050,red\n",
    );
    let run = wd.numbatch(&["run", "users.csv", "numbers.csv", "bad.csv"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("bad.csv") && run.stderr.contains("Colour"),
        "{}",
        run.stderr
    );
    assert!(wd.jobs().is_empty(), "{:?}", wd.jobs());
    assert!(wd.users_now().is_empty());
    assert!(wd.numbers_now().is_empty());
    // Also when the bad file comes first, and with a missing file.
    let run = wd.numbatch(&["run", "bad.csv", "users.csv"]);
    run.assert_code(2);
    let run = wd.numbatch(&["submit", "users.csv", "missing.csv"]);
    run.assert_code(2);
    assert!(wd.jobs().is_empty());
    // The good files alone then run, in the order given.
    let run = wd.numbatch(&["run", "users.csv", "numbers.csv"]);
    run.assert_code(0);
    assert_eq!(run.jobs.len(), 2);
    assert_eq!(run.jobs[0].stem, "users");
    assert_eq!(run.jobs[1].stem, "numbers");
    assert!(run.jobs[0].id < run.jobs[1].id);
}

#[test]
fn several_files_run_in_order_and_exit_1_if_any_row_fails() {
    let wd = Workdir::new();
    wd.create(
        "1-users.csv",
        &csv_text(USERS_HEADER, &["zed@contoso.com,Zed,,,"]),
    );
    wd.create(
        "2-numbers.csv",
        &csv_text(NUMBERS_HEADER, &["+442079460050,,"]),
    );
    wd.create(
        "3-assign.csv",
        &csv_text(
            ASSIGNMENTS_HEADER,
            &[
                "zed@contoso.com,+442079460050,assign",
                "yan@contoso.com,+442079460050,add",
            ],
        ),
    );
    let run = wd.run_files(&["1-users.csv", "2-numbers.csv", "3-assign.csv"], &[]);
    run.assert_code(1);
    assert_eq!(run.jobs.len(), 3);
    // The assignment could only apply because the two files before it had.
    assert_eq!(
        wd.held_by("zed@contoso.com"),
        (Some("+442079460050".into()), vec![])
    );
    assert_eq!(
        wd.codes(&run.jobs[2]),
        vec![(3, "DUPLICATE_IN_FILE".into())]
    );
}

#[test]
fn a_one_row_file_is_counted_as_one_row() {
    let wd = Workdir::new();
    let run = wd.users("one.csv", &["zed@contoso.com,Zed,,,"], &[]);
    run.assert_code(0);
    let id = run.job().id;
    // Stored (standard error), then run (standard output).
    assert!(
        run.stderr
            .contains(&format!("job {id}: one.csv (users file, 1 row)")),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains(": 1 row: 1 applied, 0 unchanged, 0 failed"),
        "{}",
        run.stdout
    );
}

// ---- template ---------------------------------------------------------------------------

#[test]
fn template_to_stdout_and_to_a_file() {
    let wd = Workdir::new();
    let want = [
        ("assignments", "UserPrincipalName,PhoneNumber,Action"),
        (
            "users",
            "UserPrincipalName,DisplayName,Plan,VoiceEnabled,Action",
        ),
        ("numbers", "PhoneNumber,NumberType,Action"),
    ];
    for (kind, header) in want {
        let run = wd.exec(&["template", kind]);
        run.assert_code(0);
        assert_eq!(run.stdout.trim_end(), header, "{kind}");
        let file = format!("{kind}-template.csv");
        wd.exec(&["template", kind, "-o", &file]).assert_code(0);
        assert_eq!(wd.read(&file).trim_end(), header, "{kind}");
    }
}

#[test]
fn template_filled_in_and_run() {
    let wd = Workdir::new();
    for kind in ["users", "numbers", "assignments"] {
        wd.exec(&["template", kind, "-o", &format!("{kind}.csv")])
            .assert_code(0);
    }
    let append = |name: &str, rows: &str| {
        let mut text = wd.read(name);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(rows);
        wd.create(name, &text);
    };
    append(
        "users.csv",
        "zed@contoso.com,Zed Zimmer,Advanced,true,upsert\n",
    );
    append(
        "numbers.csv",
        "+442079460050,subscriber,add\n+442079460051,,add\n",
    );
    append(
        "assignments.csv",
        "zed@contoso.com,+442079460050,assign\nzed@contoso.com,+442079460051,add\n",
    );
    let run = wd.run_files(&["users.csv", "numbers.csv", "assignments.csv"], &[]);
    run.assert_code(0);
    assert_eq!(run.jobs.len(), 3);
    assert_eq!(
        wd.held_by("zed@contoso.com"),
        (Some("+442079460050".into()), vec!["+442079460051".into()])
    );
}

#[test]
fn header_only_file_is_a_job_of_0_rows_with_empty_reports() {
    let wd = Workdir::new();
    wd.exec(&["template", "assignments", "-o", "blank.csv"])
        .assert_code(0);
    let run = wd.run_files(&["blank.csv"], &[]);
    run.assert_code(0);
    let job = run.job();
    let j = wd.job_json(job.id);
    assert_eq!(j["rows"], 0);
    assert_eq!(j["state"], "done");
    assert_eq!(j["failed"], 0);
    assert_eq!(j["pending"], 0);
    let (h1, r1) = wd.report_table(job, "succeeded");
    let (h2, r2) = wd.report_table(job, "failed");
    assert_eq!(
        h1,
        [
            "UserPrincipalName",
            "PhoneNumber",
            "Action",
            "Row",
            "Outcome",
            "Detail"
        ]
    );
    assert_eq!(
        h2,
        [
            "UserPrincipalName",
            "PhoneNumber",
            "Action",
            "Row",
            "ErrorCode",
            "Error"
        ]
    );
    assert!(r1.is_empty() && r2.is_empty());
}

// ---- submit, resume, same content --------------------------------------------------------

#[test]
fn submit_queues_and_resume_applies() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.create(
        "later.csv",
        &csv_text(
            ASSIGNMENTS_HEADER,
            &[
                &format!("{ALICE},{},assign", uk(1)),
                &format!("{BOB},{}", uk(2)),
                &format!("{CAROL},{},add", uk(3)),
            ],
        ),
    );
    let run = wd.numbatch(&["submit", "later.csv"]);
    run.assert_code(0);
    let id = run.job().id;
    assert!(
        run.stdout.split_whitespace().any(|w| w == id.to_string()),
        "{}",
        run.stdout
    );
    // Queued: the malformed row failed at once, the rest are pending.
    let j = wd.job_json(id);
    assert_eq!(j["state"], "queued");
    assert_eq!(j["rows"], 3);
    assert_eq!(j["failed"], 1);
    assert_eq!(j["pending"], 2);
    assert_eq!(j["applied"], 0);
    assert!(wd.holdings().is_empty());
    let run = wd.exec(&["resume"]);
    run.assert_code(1);
    let j = wd.job_json(id);
    assert_eq!(j["state"], "done");
    assert_eq!(j["applied"], 2);
    assert_eq!(j["pending"], 0);
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
    assert_eq!(wd.held_by(CAROL), (None, vec![uk(3)]));
}

#[test]
fn resubmitting_the_same_content_is_skipped_unless_forced() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[&format!("{ALICE},{},assign", uk(1))]);
    let rows = [format!("{ALICE},{},unassign", uk(1))];
    let run = wd.assignments("once.csv", &[&rows[0]], &[]);
    run.assert_code(0);
    let first = run.job().id;
    // The same content, even under another name: skipped, exit 0, the earlier job named.
    wd.create("once-again.csv", &wd.read("once.csv"));
    let run = wd.run_files(&["once-again.csv"], &[]);
    run.assert_code(0);
    assert!(run.jobs.is_empty(), "{:?}", run.jobs);
    assert!(run.stderr.contains(&first.to_string()), "{}", run.stderr);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    // Even --quiet says so: the file did not run.
    let run = wd.numbatch(&["--quiet", "run", "once-again.csv"]);
    run.assert_code(0);
    assert!(run.jobs.is_empty(), "{:?}", run.jobs);
    assert!(
        run.stderr.contains(&format!("submitted as job {first}")),
        "{}",
        run.stderr
    );
    // An earlier job still queued is finished with resume, not retried.
    wd.create(
        "queued.csv",
        &csv_text(ASSIGNMENTS_HEADER, &[&format!("{CAROL},{},add", uk(3))]),
    );
    let queued = wd.numbatch(&["submit", "queued.csv"]);
    queued.assert_code(0);
    let run = wd.numbatch(&["--quiet", "submit", "queued.csv"]);
    run.assert_code(0);
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!("job {} ", queued.job().id))
            && run.stderr.contains("numbatch resume"),
        "{}",
        run.stderr
    );
    wd.exec(&["resume"]).assert_code(0);
    // The same file twice on one command line: the second is skipped.
    wd.create(
        "twice.csv",
        &csv_text(ASSIGNMENTS_HEADER, &[&format!("{BOB},{},add", uk(2))]),
    );
    let run = wd.run_files(&["twice.csv", "twice.csv"], &[]);
    run.assert_code(0);
    assert_eq!(run.jobs.len(), 1);
    assert_eq!(wd.held_by(BOB), (None, vec![uk(2)]));
    // --force runs it: the row is already in place.
    let run = wd.run_files(&["once.csv"], &["--force"]);
    run.assert_code(0);
    assert_eq!(wd.outcomes(run.job()), vec![(2, "unchanged".into())]);
}

#[test]
fn dry_run_changes_nothing_and_says_what_would_happen() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[&format!("{ALICE},{},assign", uk(1))]);
    let rows = [
        format!("{ALICE},{},assign", uk(1)),
        format!("{BOB},{},assign", uk(2)),
        format!("{BOB},{},add", uk(3)),
        format!("{ERIN},{},assign", uk(4)),
    ];
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let run = wd.assignments("plan.csv", &rows, &["--dry-run"]);
    run.assert_code(1);
    let job = run.job();
    assert_eq!(
        wd.outcomes(job),
        vec![
            (2, "unchanged".into()),
            (3, "would-apply".into()),
            (4, "would-apply".into())
        ]
    );
    assert_eq!(wd.codes(job), vec![(5, "USER_NOT_VOICE_ENABLED".into())]);
    let j = wd.job_json(job.id);
    assert_eq!(j["dry_run"], true);
    assert_eq!(j["state"], "done");
    assert_eq!(j["failed"], 1);
    assert_eq!(j["pending"], 0);
    // The rows that would apply count as applied (dry_run says they were not),
    // so the counts always add up to the rows.
    assert_eq!(j["applied"], 2);
    assert_eq!(j["would_apply"], 2);
    assert_eq!(j["unchanged"], 1);
    assert_eq!(j["rows"], 4);
    // Nothing changed.
    assert_eq!(wd.held_by(BOB), (None, vec![]));
    // A dry run does not count as submitted: the real run goes ahead.
    let run = wd.run_files(&["plan.csv"], &[]);
    run.assert_code(1);
    assert_eq!(wd.job_json(run.job().id)["dry_run"], false);
    assert_eq!(wd.held_by(BOB), (Some(uk(2)), vec![uk(3)]));
}

#[test]
fn dry_run_simulates_in_file_order() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[&format!("{ALICE},{},assign", uk(1))]);
    let run = wd.assignments(
        "plan.csv",
        &[
            // Each row sees the rows above it as done.
            &format!("{BOB},{},assign", uk(2)),
            &format!("{BOB},{},assign", uk(2)),
            &format!("{BOB},{},assign", uk(3)),
            &format!("{ALICE},{},unassign", uk(1)),
            &format!("{CAROL},{},assign", uk(1)),
        ],
        &["--dry-run", "--cooldown", "0"],
    );
    run.assert_code(1);
    let job = run.job();
    assert_eq!(
        wd.outcomes(job),
        vec![
            (2, "would-apply".into()),
            (3, "unchanged".into()),
            (5, "would-apply".into()),
            (6, "would-apply".into())
        ]
    );
    assert_eq!(wd.codes(job), vec![(4, "USER_HAS_PRIMARY".into())]);
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
    assert_eq!(wd.held_by(CAROL), (None, vec![]));
}

#[test]
fn resume_uses_the_options_stored_with_the_job() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[
        &format!("{ALICE},{},assign", uk(1)),
        &format!(",{},unassign", uk(1)),
    ]);
    wd.create(
        "later.csv",
        &csv_text(
            ASSIGNMENTS_HEADER,
            &[
                &format!("{BOB},{},assign", uk(1)),
                &format!("{CAROL},020 7946 0002,assign"),
            ],
        ),
    );
    let run = wd.numbatch(&["submit", "later.csv", "--cooldown", "0", "--region", "GB"]);
    run.assert_code(0);
    let id = run.job().id;
    // `resume` takes no job options: the job's own apply.
    wd.exec(&["resume"]).assert_code(0);
    assert_eq!(wd.job_json(id)["applied"], 2);
    assert_eq!(wd.held_by(BOB), (Some(uk(1)), vec![]));
    assert_eq!(wd.held_by(CAROL), (Some(uk(2)), vec![]));
}

#[test]
fn dry_run_of_only_good_rows_exits_0() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "plan.csv",
        &[&format!("{BOB},{},assign", uk(2))],
        &["--dry-run"],
    );
    run.assert_code(0);
    assert_eq!(wd.outcomes(run.job()), vec![(2, "would-apply".into())]);
    assert!(wd.holdings().is_empty());
}

// ---- export ---------------------------------------------------------------------------

/// A directory with a bit of everything: primaries, additionals, a removed
/// user, a released number, a service number, odd display names.
fn busy_directory(wd: &Workdir) {
    wd.setup_directory();
    wd.users(
        "more-users.csv",
        &[
            "henrietta@contoso.com,\"Mueller, Henrietta\",Advanced,true,upsert",
            "formula@contoso.com,=1+2,Connect,yes,upsert",
            "quote@contoso.com,\"Dwayne \"\"The Rock\"\"\",Max,true,upsert",
            "chloe@contoso.fr,Chloé Moreau,,,",
        ],
        &[],
    )
    .assert_code(0);
    wd.give(&[
        &format!("{ALICE},{},assign", uk(1)),
        &format!("{ALICE},{},add", uk(2)),
        &format!("{CAROL},{},add", uk(3)),
        &format!("{DAVE},{},assign", us(1)),
        &format!("{DAVE},{},add", us(2)),
        &format!("{DAVE},{},add", us(3)),
        &format!("henrietta@contoso.com,{},assign", uk(4)),
        &format!("{BOB},{},assign", uk(5)),
    ]);
    wd.users("leavers.csv", &[&format!("{BOB},,,,remove")], &[])
        .assert_code(0);
    wd.numbers(
        "retire.csv",
        &[&format!("{},,release", uk(12)), "+442079460050,service,add"],
        &[],
    )
    .assert_code(0);
}

#[test]
fn export_writes_the_directory_in_template_format() {
    let wd = Workdir::new();
    busy_directory(&wd);
    let (header, _) = parse_csv(&wd.export("assignments"));
    assert_eq!(header, ["UserPrincipalName", "PhoneNumber", "Action"]);
    let holdings = wd.holdings();
    assert_eq!(holdings.len(), 7, "{holdings:?}");
    assert_eq!(holdings[&uk(1)], (ALICE.to_string(), "assign".to_string()));
    assert_eq!(holdings[&uk(2)], (ALICE.to_string(), "add".to_string()));
    assert_eq!(holdings[&uk(3)], (CAROL.to_string(), "add".to_string()));
    // Bob was removed: his number is free, he is not exported.
    assert!(!holdings.contains_key(&uk(5)));
    let users = wd.users_now();
    assert!(!users.contains_key(BOB));
    assert_eq!(users.len(), 8);
    assert!(users.values().all(|u| u["Action"] == "upsert"));
    assert_eq!(users[ERIN]["VoiceEnabled"], "false");
    assert_eq!(
        users["henrietta@contoso.com"]["DisplayName"],
        "Mueller, Henrietta"
    );
    let numbers = wd.numbers_now();
    assert!(
        !numbers.contains_key(&uk(12)),
        "released numbers are not exported"
    );
    assert_eq!(numbers.len(), 2 + 11 + 10 + 1);
    assert_eq!(numbers[UK_SERVICE], "service");
    assert_eq!(numbers[&uk(5)], "subscriber");
    assert!(
        wd.export_recs("numbers")
            .iter()
            .all(|n| n["Action"] == "add")
    );
}

#[test]
fn export_to_a_file_with_o() {
    let wd = Workdir::new();
    busy_directory(&wd);
    wd.exec(&["export", "users", "-o", "users-export.csv"])
        .assert_code(0);
    assert_eq!(wd.read("users-export.csv"), wd.export("users"));
}

#[test]
fn an_output_file_in_a_missing_folder_is_bad_usage() {
    let wd = Workdir::new();
    for args in [
        ["template", "users", "-o", "no-such-folder/t.csv"],
        ["export", "users", "-o", "no-such-folder/e.csv"],
    ] {
        let run = wd.exec(&args);
        run.assert_code(2);
        assert!(
            run.stderr.contains("no-such-folder") && !run.stderr.contains("resume"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn export_round_trip_rebuilds_the_same_directory() {
    let src = Workdir::new();
    busy_directory(&src);
    let exports: Vec<(&str, String)> = ["users", "numbers", "assignments"]
        .into_iter()
        .map(|k| (k, src.export(k)))
        .collect();
    let dst = Workdir::new();
    for (kind, text) in &exports {
        dst.create(&format!("{kind}.csv"), text);
    }
    let run = dst.run_files(&["users.csv", "numbers.csv", "assignments.csv"], &[]);
    run.assert_code(0);
    for (kind, text) in &exports {
        assert_eq!(
            &dst.export(kind),
            text,
            "export {kind} differs after the round trip"
        );
    }
    // Running the exports again changes nothing.
    let run = dst.run_files(
        &["users.csv", "numbers.csv", "assignments.csv"],
        &["--force"],
    );
    run.assert_code(0);
    for job in &run.jobs {
        assert!(
            dst.outcomes(job).iter().all(|(_, o)| o == "unchanged"),
            "{:?}",
            dst.outcomes(job)
        );
    }
}

#[test]
fn export_of_an_empty_directory_is_the_header() {
    let wd = Workdir::new();
    for (kind, header) in [
        ("assignments", ASSIGNMENTS_HEADER),
        ("users", USERS_HEADER),
        ("numbers", NUMBERS_HEADER),
    ] {
        assert_eq!(wd.export(kind).trim_end(), header);
    }
}

// ---- show ---------------------------------------------------------------------------

#[test]
fn show_a_user_with_numbers_and_history() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[
        &format!("{ALICE},{},assign", uk(1)),
        &format!("{ALICE},{},add", uk(2)),
    ]);
    let run = wd.exec(&["show", ALICE]);
    run.assert_code(0);
    let out = &run.stdout;
    assert!(out.contains(ALICE), "{out}");
    assert!(out.contains(&uk(1)) && out.contains(&uk(2)), "{out}");
    assert!(out.contains("Alice Archer"), "{out}");
    assert!(out.contains("Connect"), "{out}");
    // Case-insensitive.
    let run = wd.exec(&["show", "ALICE@Contoso.com"]);
    run.assert_code(0);
    assert!(run.stdout.contains(&uk(1)));
}

#[test]
fn show_a_number_with_its_history() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[&format!("{ALICE},{},assign", uk(1))]);
    wd.give(&[&format!("{BOB},{},reassign", uk(1))]);
    let run = wd.exec(&["show", &uk(1)]);
    run.assert_code(0);
    let out = &run.stdout;
    assert!(out.contains(&uk(1)), "{out}");
    // Its history names both holders, one line per change at least.
    assert!(out.contains(ALICE) && out.contains(BOB), "{out}");
    let history: Vec<&str> = out.lines().filter(|l| l.contains("assign")).collect();
    assert!(history.len() >= 2, "{out}");
    assert!(history.iter().any(|l| l.contains("reassign")), "{out}");
    // Written another way, the same number.
    let run = wd.exec(&["show", "+44 20 7946 0001"]);
    run.assert_code(0);
    assert!(run.stdout.contains(BOB), "{}", run.stdout);
}

#[test]
fn show_a_removed_user_and_a_released_number() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.users("bye.csv", &[&format!("{BOB},,,,remove")], &[])
        .assert_code(0);
    wd.numbers("retire.csv", &[&format!("{},,release", uk(12))], &[])
        .assert_code(0);
    let run = wd.exec(&["show", BOB]);
    run.assert_code(0);
    assert!(
        run.stdout.to_lowercase().contains("removed"),
        "{}",
        run.stdout
    );
    let run = wd.exec(&["show", &uk(12)]);
    run.assert_code(0);
    assert!(
        run.stdout.to_lowercase().contains("released"),
        "{}",
        run.stdout
    );
}

#[test]
fn show_of_something_never_there_exits_2() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.exec(&["show", "nobody@contoso.com"]);
    run.assert_code(2);
    assert!(run.stderr.contains("nobody@contoso.com"), "{}", run.stderr);
    let run = wd.exec(&["show", NOT_IN_INVENTORY]);
    run.assert_code(2);
    let run = wd.exec(&["show", "nobody@contoso.com", "--json"]);
    run.assert_code(2);
    // Neither a UPN nor a number.
    let run = wd.exec(&["show", "whatever"]);
    run.assert_code(2);
    assert!(!run.stderr.trim().is_empty());
}

#[test]
fn show_json() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[&format!("{ALICE},{},assign", uk(1))]);
    for subject in [ALICE.to_string(), uk(1)] {
        let run = wd.exec(&["show", &subject, "--json"]);
        run.assert_code(0);
        let v: Value =
            serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
        assert!(v.is_object(), "{v}");
        let text = v.to_string();
        assert!(text.contains(ALICE) && text.contains(&uk(1)), "{text}");
    }
}

// ---- jobs and job --------------------------------------------------------------------

#[test]
fn jobs_json_has_the_contract_fields() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.create(
        "a.csv",
        &csv_text(
            ASSIGNMENTS_HEADER,
            &[
                &format!("{ALICE},{},assign", uk(1)),
                &format!("{ALICE},{},assign", uk(1)),
                &format!("{BOB},{NOT_IN_INVENTORY},assign"),
                &format!("{CAROL},{}", uk(3)),
            ],
        ),
    );
    let run = wd.run_files(&["a.csv"], &[]);
    run.assert_code(1);
    let jobs = wd.jobs();
    assert_eq!(jobs.len(), 3);
    let ids: Vec<i64> = jobs.iter().map(|j| j["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3]);
    let j = &jobs[2];
    for field in [
        "id",
        "file",
        "kind",
        "state",
        "dry_run",
        "rows",
        "applied",
        "unchanged",
        "failed",
        "pending",
    ] {
        assert!(j.get(field).is_some(), "no {field} in {j}");
    }
    assert!(j["file"].as_str().unwrap().ends_with("a.csv"), "{j}");
    assert_eq!(j["kind"], "assignments");
    assert_eq!(j["state"], "done");
    assert_eq!(j["dry_run"], false);
    assert_eq!(j["rows"], 4);
    assert_eq!(j["applied"], 1);
    assert_eq!(j["unchanged"], 1);
    assert_eq!(j["failed"], 2);
    assert_eq!(j["pending"], 0);
    assert_eq!(jobs[0]["kind"], "users");
    assert_eq!(jobs[0]["rows"], 5);
    assert_eq!(jobs[1]["kind"], "numbers");
    assert_eq!(jobs[1]["applied"], 24);
}

#[test]
fn jobs_json_of_an_empty_database_is_an_empty_array() {
    let wd = Workdir::new();
    let run = wd.exec(&["jobs", "--json"]);
    run.assert_code(0);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v, Value::Array(vec![]));
}

#[test]
fn jobs_text_lists_every_job() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.exec(&["jobs"]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("std-users.csv") && run.stdout.contains("std-numbers.csv"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("users") && run.stdout.contains("numbers"));
}

#[test]
fn job_shows_failures_by_code() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "a.csv",
        &[
            &format!("nobody@contoso.com,{},assign", uk(1)),
            &format!("ghost@contoso.com,{},assign", uk(2)),
            &format!("{ERIN},{},assign", uk(3)),
            &format!("{ALICE},{},assign", uk(4)),
        ],
        &[],
    );
    run.assert_code(1);
    let id = run.job().id.to_string();
    let shown = wd.exec(&["job", &id]);
    shown.assert_code(0);
    let out = &shown.stdout;
    assert!(
        out.contains("USER_NOT_FOUND") && out.contains("USER_NOT_VOICE_ENABLED"),
        "{out}"
    );
    let line = out.lines().find(|l| l.contains("USER_NOT_FOUND")).unwrap();
    assert!(
        line.split_whitespace().any(|w| w == "2"),
        "count of USER_NOT_FOUND: {line}"
    );
    assert!(out.contains("a.csv"), "{out}");

    let shown = wd.exec(&["job", &id, "--json"]);
    shown.assert_code(0);
    let v: Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(v["id"].as_i64(), Some(run.job().id));
    assert_eq!(v["kind"], "assignments");
    assert_eq!(v["rows"], 4);
    assert_eq!(v["applied"], 1);
    assert_eq!(v["failed"], 3);
    assert_eq!(v["pending"], 0);
    assert_eq!(v["state"], "done");
    assert!(v.to_string().contains("USER_NOT_FOUND"), "{v}");
}

#[test]
fn job_of_an_unknown_id_exits_2() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.exec(&["job", "99"]);
    run.assert_code(2);
    assert!(run.stderr.contains("99"), "{}", run.stderr);
}

// ---- database location -----------------------------------------------------------------

#[test]
fn numbatch_db_environment_variable() {
    let wd = Workdir::new();
    wd.create("n.csv", &csv_text(NUMBERS_HEADER, &["+442079460050,,add"]));
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_numbatch"));
    let out = cmd
        .current_dir(wd.root())
        .env("NUMBATCH_DB", wd.path("elsewhere/dir.db"))
        .args(["run", "n.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(wd.exists("elsewhere/dir.db"));
    assert!(!wd.exists("numbatch.db"));
}

#[test]
fn default_database_is_in_the_current_folder() {
    let wd = Workdir::new();
    wd.create("n.csv", &csv_text(NUMBERS_HEADER, &["+442079460050,,add"]));
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_numbatch"));
    let out = cmd
        .current_dir(wd.root())
        .env_remove("NUMBATCH_DB")
        .args(["run", "n.csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(wd.exists("numbatch.db"));
    // `Workdir::cmd` uses that same file.
    assert!(wd.numbers_now().contains_key("+442079460050"));
}

// ---- retry ---------------------------------------------------------------------------------

#[test]
fn retry_runs_the_failed_rows_again_as_a_new_job() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "wave.csv",
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!("zed@contoso.com,{},assign", uk(2)),
        ],
        &[],
    );
    run.assert_code(1);
    let first = run.job().id;
    // Zed is created; the failed row can now apply.
    wd.users("zed.csv", &["zed@contoso.com,Zed,,,"], &[])
        .assert_code(0);
    let run = wd.numbatch(&["retry", &first.to_string()]);
    run.assert_code(0);
    let job = run.job();
    assert!(wd.exists(&format!("reports/{}-wave-retry.succeeded.csv", job.id)));
    assert!(wd.exists(&format!("reports/{}-wave-retry.failed.csv", job.id)));
    assert_eq!(wd.held_by("zed@contoso.com"), (Some(uk(2)), vec![]));
}

#[test]
fn a_file_over_max_file_size_is_rejected_whole_and_the_limit_can_be_raised() {
    let wd = Workdir::new();
    let body = format!("PhoneNumber\n{}\n", uk(1));
    // 1,200 users with long display names: over 1 MiB, few rows.
    let name = "N".repeat(900);
    let big: String = std::iter::once("UserPrincipalName,DisplayName\n".to_string())
        .chain((0..1_200).map(|i| format!("u{i}@contoso.com,{name}\n")))
        .collect();
    assert!(big.len() > 1024 * 1024, "over 1 MiB");
    wd.create("big.csv", &big);
    wd.create("small.csv", &body);
    let run = wd.exec(&["--max-file-size", "1", "run", "big.csv"]);
    run.assert_code(2);
    assert!(run.stderr.contains("big.csv"), "{}", run.stderr);
    assert!(run.stderr.contains("--max-file-size"), "{}", run.stderr);
    assert!(wd.jobs().is_empty(), "nothing queued");
    wd.exec(&["--max-file-size", "1", "run", "small.csv"])
        .assert_code(0);
    wd.exec(&["--max-file-size", "2", "run", "big.csv"])
        .assert_code(0);
}
