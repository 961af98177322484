//! File order, DUPLICATE_IN_FILE, PLAN_LIMIT at the cap and the cool-down.

mod util;

use util::*;

fn rows(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

// ---- file order -------------------------------------------------------------

#[test]
fn unassign_then_give_to_someone_else_lower_down_the_same_file() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[&format!("{ALICE},{},assign", uk(1))]);
    let run = wd.assignments(
        "move.csv",
        &[
            &format!("{ALICE},{},unassign", uk(1)),
            &format!("{BOB},{},assign", uk(1)),
        ],
        &["--cooldown", "0"],
    );
    run.assert_code(0);
    assert_eq!(
        wd.outcomes(run.job()),
        vec![(2, "applied".into()), (3, "applied".into())]
    );
    assert_eq!(wd.held_by(BOB), (Some(uk(1)), vec![]));
    assert_eq!(wd.held_by(ALICE), (None, vec![]));
}

#[test]
fn rows_apply_in_file_order_within_a_file() {
    let wd = Workdir::new();
    wd.setup_directory();
    // Give, take away and give again, all in one file with small batches.
    let run = wd.assignments(
        "order.csv",
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!(",{},unassign", uk(1)),
            &format!("{ALICE},{},add", uk(1)),
            &format!("{ALICE},{},swap", uk(2)),
        ],
        &["--batch-size", "1"],
    );
    run.assert_code(0);
    assert_eq!(wd.outcomes(run.job()).len(), 4);
    assert!(wd.outcomes(run.job()).iter().all(|(_, o)| o == "applied"));
    // uk(1) came back as additional, then uk(2) became primary.
    assert_eq!(wd.held_by(ALICE), (Some(uk(2)), vec![uk(1)]));
}

#[test]
fn the_same_row_twice_in_a_file_is_unchanged_the_second_time() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "twice.csv",
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!("alice@contoso.COM,{},", uk(1)),
        ],
        &[],
    );
    run.assert_code(0);
    assert_eq!(
        wd.outcomes(run.job()),
        vec![(2, "applied".into()), (3, "unchanged".into())]
    );
}

// ---- DUPLICATE_IN_FILE --------------------------------------------------------

#[test]
fn duplicate_giving_a_number_to_two_users() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "dup.csv",
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!("{BOB},{},assign", uk(1)),
            &format!("{CAROL},{},add", uk(1)),
            &format!("{DAVE},{},swap", uk(1)),
        ],
        &["--cooldown", "0"],
    );
    run.assert_code(1);
    let job = run.job();
    assert_eq!(wd.outcomes(job), vec![(2, "applied".into())]);
    assert_eq!(
        wd.codes(job),
        vec![
            (3, "DUPLICATE_IN_FILE".into()),
            (4, "DUPLICATE_IN_FILE".into()),
            (5, "DUPLICATE_IN_FILE".into())
        ]
    );
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
}

#[test]
fn duplicate_after_an_unassign_or_with_reassign_is_not_a_duplicate() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "dup.csv",
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!(",{},unassign", uk(1)),
            // The unassign left it given to nobody.
            &format!("{BOB},{},assign", uk(1)),
            // reassign moves it on purpose.
            &format!("{CAROL},{},reassign", uk(1)),
            // ...so now it is Carol's: giving it to Bob again is a duplicate.
            &format!("{BOB},{},add", uk(1)),
        ],
        &["--cooldown", "0"],
    );
    run.assert_code(1);
    let job = run.job();
    assert_eq!(
        wd.outcomes(job),
        vec![
            (2, "applied".into()),
            (3, "applied".into()),
            (4, "applied".into()),
            (5, "applied".into())
        ]
    );
    assert_eq!(wd.codes(job), vec![(6, "DUPLICATE_IN_FILE".into())]);
    assert!(
        wd.failed_row(job, 6)["Error"].contains("row 5"),
        "{:?}",
        wd.failed_row(job, 6)
    );
    assert_eq!(wd.held_by(CAROL), (Some(uk(1)), vec![]));
}

#[test]
fn duplicate_across_batches() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "dup.csv",
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!("{BOB},{},assign", uk(2)),
            &format!("{CAROL},{},assign", uk(3)),
            &format!("{DAVE},{},add", uk(1)),
        ],
        &["--batch-size", "1"],
    );
    run.assert_code(1);
    assert_eq!(wd.codes(run.job()), vec![(5, "DUPLICATE_IN_FILE".into())]);
}

#[test]
fn duplicate_same_user_is_not_a_duplicate() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "dup.csv",
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!("{ALICE},{},add", uk(1)),
        ],
        &[],
    );
    run.assert_code(0);
    // The second row moves it between her own roles.
    assert_eq!(
        wd.outcomes(run.job()),
        vec![(2, "applied".into()), (3, "applied".into())]
    );
    assert_eq!(wd.held_by(ALICE), (None, vec![uk(1)]));
}

#[test]
fn duplicate_skips_rows_that_failed_a_check_above_it() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "dup.csv",
        &[
            // INVALID_UPN: skipped for duplicate tracking.
            &format!("Alice Archer,{},assign", uk(1)),
            &format!("{BOB},{},assign", uk(1)),
            // UNKNOWN_ACTION: skipped too.
            &format!("{CAROL},{},give", uk(2)),
            &format!("{DAVE},{},assign", uk(2)),
        ],
        &[],
    );
    run.assert_code(1);
    let job = run.job();
    assert_eq!(
        wd.codes(job),
        vec![(2, "INVALID_UPN".into()), (4, "UNKNOWN_ACTION".into())]
    );
    assert_eq!(
        wd.outcomes(job),
        vec![(3, "applied".into()), (5, "applied".into())]
    );
}

#[test]
fn duplicate_skips_rows_that_failed_it() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "dup.csv",
        &[
            &format!("{ALICE},{},assign", uk(1)),
            // Duplicate: skipped, so the number stays given to Alice...
            &format!("{BOB},{},assign", uk(1)),
            // ...and this is Alice's own number, not a duplicate of row 3.
            &format!("{ALICE},{},add", uk(1)),
        ],
        &[],
    );
    run.assert_code(1);
    let job = run.job();
    assert_eq!(wd.codes(job), vec![(3, "DUPLICATE_IN_FILE".into())]);
    assert_eq!(
        wd.outcomes(job),
        vec![(2, "applied".into()), (4, "applied".into())]
    );
}

#[test]
fn duplicate_counts_rows_that_fail_a_check_below_it() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[&format!("{CAROL},{},assign", uk(9))]);
    let run = wd.assignments(
        "dup.csv",
        &[
            // USER_NOT_VOICE_ENABLED is below DUPLICATE_IN_FILE: the row still
            // leaves the number given to Erin.
            &format!("{ERIN},{},assign", uk(1)),
            &format!("{BOB},{},assign", uk(1)),
            // NOT_ASSIGNED_TO_USER is below too; as an unassign it leaves uk(9)
            // given to nobody, so this add is NUMBER_ASSIGNED, not a duplicate.
            &format!("{BOB},{},unassign", uk(9)),
            &format!("{DAVE},{},add", uk(9)),
        ],
        &["--cooldown", "0"],
    );
    run.assert_code(1);
    assert_eq!(
        wd.codes(run.job()),
        vec![
            (2, "USER_NOT_VOICE_ENABLED".into()),
            (3, "DUPLICATE_IN_FILE".into()),
            (4, "NOT_ASSIGNED_TO_USER".into()),
            (5, "NUMBER_ASSIGNED".into())
        ]
    );
}

#[test]
fn duplicate_in_a_users_file() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.users(
        "u.csv",
        &[
            &format!("{ALICE},,Max,,upsert"),
            // Same user, same action: not a duplicate.
            &format!("{ALICE},Alice A.,,,upsert"),
            // Same user (case differs), another action: duplicate.
            "ALICE@contoso.com,,,,remove",
            // The failed row is skipped: another remove is a duplicate of row 2 still.
            &format!("{ALICE},,,,remove"),
        ],
        &[],
    );
    run.assert_code(1);
    let job = run.job();
    assert_eq!(
        wd.outcomes(job),
        vec![(2, "applied".into()), (3, "applied".into())]
    );
    assert_eq!(
        wd.codes(job),
        vec![
            (4, "DUPLICATE_IN_FILE".into()),
            (5, "DUPLICATE_IN_FILE".into())
        ]
    );
    let users = wd.users_now();
    assert_eq!(users[ALICE]["Plan"], "Max");
    assert_eq!(users[ALICE]["DisplayName"], "Alice A.");
}

#[test]
fn duplicate_in_a_numbers_file() {
    let wd = Workdir::new();
    let run = wd.numbers(
        "n.csv",
        &[
            "+44 20 7946 0050,,add",
            "+442079460050,service,add",
            "tel:+442079460050,,release",
            // An INVALID_NUMBER row is skipped.
            "+44 20 7946 005,,release",
            "+442079460051,,release",
        ],
        &[],
    );
    run.assert_code(1);
    let job = run.job();
    assert_eq!(
        wd.outcomes(job),
        vec![(2, "applied".into()), (3, "applied".into())]
    );
    assert_eq!(
        wd.codes(job),
        vec![
            (4, "DUPLICATE_IN_FILE".into()),
            (5, "INVALID_NUMBER".into()),
            (6, "NUMBER_NOT_FOUND".into())
        ]
    );
    assert_eq!(wd.numbers_now()["+442079460050"], "service");
}

// ---- PLAN_LIMIT -----------------------------------------------------------------

#[test]
fn plan_limit_at_exactly_the_cap() {
    let wd = Workdir::new();
    wd.setup_directory();
    let file: Vec<String> = std::iter::once(format!("{ALICE},{},assign", uk(1)))
        .chain((2..=6).map(|n| format!("{ALICE},{},add", uk(n))))
        .collect();
    let run = wd.assignments("cap.csv", &rows(&file), &[]);
    run.assert_code(1);
    let job = run.job();
    // The 5th number is fine, the 6th is one too many for Connect.
    assert_eq!(wd.outcomes(job).len(), 5);
    assert_eq!(wd.codes(job), vec![(7, "PLAN_LIMIT".into())]);
    let (primary, additional) = wd.held_by(ALICE);
    assert_eq!(primary, Some(uk(1)));
    assert_eq!(additional, vec![uk(2), uk(3), uk(4), uk(5)]);
}

#[test]
fn plan_limit_for_reassign_and_swap_without_primary() {
    let wd = Workdir::new();
    wd.setup_directory();
    // Alice: 5 additional numbers, no primary.
    let file: Vec<String> = (1..=5).map(|n| format!("{ALICE},{},add", uk(n))).collect();
    wd.give(&rows(&file));
    wd.give(&[&format!("{BOB},{},assign", uk(6))]);
    let run = wd.assignments(
        "more.csv",
        &[
            &format!("{ALICE},{},reassign", uk(6)),
            &format!("{ALICE},{},swap", uk(7)),
            &format!("{ALICE},{},assign", uk(8)),
        ],
        &["--cooldown", "0"],
    );
    run.assert_code(1);
    assert_eq!(
        wd.codes(run.job()),
        vec![
            (2, "PLAN_LIMIT".into()),
            (3, "PLAN_LIMIT".into()),
            (4, "PLAN_LIMIT".into())
        ]
    );
    assert_eq!(wd.held_by(BOB), (Some(uk(6)), vec![]));
}

#[test]
fn plan_limit_never_for_moves_between_own_roles_or_swap_with_primary() {
    let wd = Workdir::new();
    wd.setup_directory();
    let file: Vec<String> = std::iter::once(format!("{ALICE},{},assign", uk(1)))
        .chain((2..=5).map(|n| format!("{ALICE},{},add", uk(n))))
        .collect();
    wd.give(&rows(&file));
    // At her cap: swap a free number in (count unchanged), swap an own
    // additional, add own primary, assign own additional while no primary.
    let run = wd.assignments(
        "moves.csv",
        &[
            &format!("{ALICE},{},swap", uk(6)),
            &format!("{ALICE},{},swap", uk(2)),
            &format!("{ALICE},{},add", uk(2)),
            &format!("{ALICE},{},assign", uk(3)),
        ],
        &[],
    );
    run.assert_code(0);
    assert!(
        wd.outcomes(run.job()).iter().all(|(_, o)| o == "applied"),
        "{:?}",
        wd.outcomes(run.job())
    );
    let (primary, additional) = wd.held_by(ALICE);
    assert_eq!(primary, Some(uk(3)));
    assert_eq!(additional, vec![uk(2), uk(4), uk(5), uk(6)]);
    // uk(1), her first primary, went back to the inventory.
    assert!(!wd.holdings().contains_key(&uk(1)));
}

#[test]
fn plan_limit_follows_the_plan() {
    let wd = Workdir::new();
    wd.setup_directory();
    // Carol is on Advanced (10): 10 numbers fine, the 11th fails.
    let file: Vec<String> = std::iter::once(format!("{CAROL},{},assign", uk(1)))
        .chain((2..=10).map(|n| format!("{CAROL},{},add", uk(n))))
        .chain(std::iter::once(format!("{CAROL},{},add", uk(11))))
        .collect();
    let run = wd.assignments("carol.csv", &rows(&file), &[]);
    run.assert_code(1);
    assert_eq!(wd.outcomes(run.job()).len(), 10);
    assert_eq!(wd.codes(run.job()), vec![(12, "PLAN_LIMIT".into())]);
}

#[test]
fn plan_limit_on_upsert_lowering_the_plan_below_the_count() {
    let wd = Workdir::new();
    wd.setup_directory();
    let file: Vec<String> = std::iter::once(format!("{CAROL},{},assign", uk(1)))
        .chain((2..=6).map(|n| format!("{CAROL},{},add", uk(n))))
        .collect();
    wd.give(&rows(&file));
    // 6 numbers: Connect (5) is too small.
    let run = wd.users("down.csv", &[&format!("{CAROL},,Connect,,upsert")], &[]);
    run.assert_code(1);
    let rec = wd.failed_row(run.job(), 2);
    assert_eq!(rec["ErrorCode"], "PLAN_LIMIT");
    assert!(
        rec["Error"].contains('6') && rec["Error"].contains('5'),
        "{rec:?}"
    );
    assert_eq!(wd.users_now()[CAROL]["Plan"], "Advanced");
    // With 5 numbers, Connect is exactly enough.
    wd.assignments("one-less.csv", &[&format!(",{},unassign", uk(6))], &[])
        .assert_code(0);
    let run = wd.users("down2.csv", &[&format!("{CAROL},,connect,,upsert")], &[]);
    run.assert_code(0);
    assert_eq!(wd.users_now()[CAROL]["Plan"], "Connect");
}

// ---- cool-down ------------------------------------------------------------------

#[test]
fn cooldown_default_holds_a_number_back_from_another_user() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[
        &format!("{ALICE},{},assign", uk(1)),
        &format!(",{},unassign", uk(1)),
    ]);
    let run = wd.assignments("next.csv", &[&format!("{BOB},{},assign", uk(1))], &[]);
    run.assert_code(1);
    let rec = wd.failed_row(run.job(), 2);
    assert_eq!(rec["ErrorCode"], "COOLDOWN");
    assert!(rec["Error"].contains(&uk(1)), "{rec:?}");
    assert!(!wd.holdings().contains_key(&uk(1)));
}

#[test]
fn cooldown_zero_lets_it_go() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[
        &format!("{ALICE},{},assign", uk(1)),
        &format!(",{},unassign", uk(1)),
    ]);
    let run = wd.assignments(
        "next.csv",
        &[&format!("{BOB},{},assign", uk(1))],
        &["--cooldown", "0"],
    );
    run.assert_code(0);
    assert_eq!(wd.held_by(BOB), (Some(uk(1)), vec![]));
}

#[test]
fn cooldown_holds_back_the_numbers_of_a_removed_user() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[&format!("{BOB},{},assign", uk(4))]);
    wd.users("leave.csv", &[&format!("{BOB},,,,remove")], &[])
        .assert_code(0);
    let run = wd.assignments("next.csv", &[&format!("{ALICE},{},assign", uk(4))], &[]);
    run.assert_code(1);
    assert_eq!(wd.codes(run.job()), vec![(2, "COOLDOWN".into())]);
    let run = wd.assignments(
        "next0.csv",
        &[&format!("{ALICE},{},Assign", uk(4))],
        &["--cooldown", "0s"],
    );
    run.assert_code(0);
    assert_eq!(wd.held_by(ALICE), (Some(uk(4)), vec![]));
}

#[test]
fn cooldown_does_not_stop_the_same_user() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[
        &format!("{ALICE},{},assign", uk(1)),
        &format!(",{},unassign", uk(1)),
    ]);
    let run = wd.assignments("back.csv", &[&format!("{ALICE},{},add", uk(1))], &[]);
    run.assert_code(0);
    assert_eq!(wd.held_by(ALICE), (None, vec![uk(1)]));
}

#[test]
fn cooldown_explicit_durations() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[
        &format!("{ALICE},{},assign", uk(1)),
        &format!(",{},unassign", uk(1)),
    ]);
    for (d, action) in [("1h", "assign"), ("90s", "Assign"), ("10m", "ASSIGN")] {
        // (The action's case varies so that the files' contents differ.)
        let run = wd.assignments(
            &format!("try-{d}.csv"),
            &[&format!("{BOB},{},{action}", uk(1))],
            &["--cooldown", d],
        );
        run.assert_code(1);
        assert_eq!(
            wd.codes(run.job()),
            vec![(2, "COOLDOWN".into())],
            "--cooldown {d}"
        );
    }
}

#[test]
fn cooldown_bad_values_exit_2_and_queue_nothing() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.create(
        "a.csv",
        &csv_text(ASSIGNMENTS_HEADER, &[&format!("{ALICE},{},assign", uk(1))]),
    );
    for bad in ["abc", "5d", "-1m", "1.5h", "10", "m", ""] {
        let run = wd.exec(&["run", "a.csv", "--cooldown", bad]);
        assert_eq!(run.code, 2, "--cooldown {bad:?}: {run:?}");
        assert!(!run.stderr.is_empty());
    }
    assert_eq!(wd.jobs().len(), 2, "only the setup jobs");
    assert!(wd.holdings().is_empty());
}
