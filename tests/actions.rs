//! Every action of SPEC §2: its success and its `unchanged` case, checked in
//! the reports and in the directory (through `export`).

mod util;

use util::*;

fn outcome(wd: &Workdir, run: &Run, row: u64) -> String {
    wd.succeeded_row(run.job(), row)["Outcome"].clone()
}

// ---- assignments ----------------------------------------------------------

#[test]
fn assign_gives_a_primary_and_again_is_unchanged() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments("a.csv", &[&format!("{ALICE},{},assign", uk(1))], &[]);
    run.assert_code(0);
    let rec = wd.succeeded_row(run.job(), 2);
    assert_eq!(rec["Outcome"], "applied");
    assert!(!rec["Detail"].is_empty());
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
    // The same row again (another file, so not skipped as already submitted).
    let run = wd.assignments(
        "b.csv",
        &[&format!("Alice@Contoso.com,{},assign", uk(1))],
        &[],
    );
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "unchanged");
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
}

#[test]
fn empty_action_means_assign() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments("a.csv", &[&format!("{ALICE},{},", uk(1))], &[]);
    run.assert_code(0);
    let rec = wd.succeeded_row(run.job(), 2);
    assert_eq!(rec["Action"], "assign");
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
}

#[test]
fn add_gives_an_additional_and_again_is_unchanged() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "a.csv",
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!("{ALICE},{},add", uk(2)),
            &format!("{ALICE},{},add", uk(3)),
        ],
        &[],
    );
    run.assert_code(0);
    assert_eq!(
        wd.outcomes(run.job()),
        vec![
            (2, "applied".into()),
            (3, "applied".into()),
            (4, "applied".into())
        ]
    );
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![uk(2), uk(3)]));
    let run = wd.assignments("b.csv", &[&format!("{ALICE},{},add", uk(2))], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "unchanged");
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![uk(2), uk(3)]));
}

#[test]
fn add_without_a_primary_gives_an_additional() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.assignments("a.csv", &[&format!("{ALICE},{},add", uk(2))], &[])
        .assert_code(0);
    assert_eq!(wd.held_by(ALICE), (None, vec![uk(2)]));
}

#[test]
fn unassign_naming_the_holder_and_again_is_unchanged() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[
        &format!("{ALICE},{},assign", uk(1)),
        &format!("{ALICE},{},add", uk(2)),
    ]);
    let run = wd.assignments("a.csv", &[&format!("{ALICE},{},unassign", uk(2))], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "applied");
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
    // Still in the inventory, available.
    assert!(wd.numbers_now().contains_key(&uk(2)));
    assert!(!wd.holdings().contains_key(&uk(2)));
    // (Action spelled differently: the same content would be skipped as
    // already submitted.)
    let run = wd.assignments("b.csv", &[&format!("{ALICE},{},Unassign", uk(2))], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "unchanged");
}

#[test]
fn unassign_with_empty_upn_takes_it_from_whoever_holds_it() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[&format!("{BOB},{},assign", uk(4))]);
    let run = wd.assignments("a.csv", &[&format!(",{},unassign", uk(4))], &[]);
    run.assert_code(0);
    let rec = wd.succeeded_row(run.job(), 2);
    assert_eq!(rec["Outcome"], "applied");
    assert_eq!(rec["UserPrincipalName"], "");
    assert_eq!(rec["Action"], "unassign");
    assert_eq!(wd.held_by(BOB), (None, vec![]));
    // Nobody holds it now: unassign again (with or without a user) is unchanged.
    let run = wd.assignments(
        "b.csv",
        &[
            &format!(",{},unassign", uk(4)),
            &format!("{ALICE},{},unassign", uk(4)),
        ],
        &[],
    );
    run.assert_code(0);
    assert_eq!(
        wd.outcomes(run.job()),
        vec![(2, "unchanged".into()), (3, "unchanged".into())]
    );
}

#[test]
fn reassign_takes_the_number_from_its_holder() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[
        &format!("{ALICE},{},assign", uk(1)),
        &format!("{ALICE},{},add", uk(2)),
    ]);
    let run = wd.assignments(
        "a.csv",
        &[
            &format!("{BOB},{},reassign", uk(1)),
            &format!("{CAROL},{},reassign", uk(2)),
        ],
        &["--cooldown", "0"],
    );
    run.assert_code(0);
    assert_eq!(
        wd.outcomes(run.job()),
        vec![(2, "applied".into()), (3, "applied".into())]
    );
    // The previous holder lost them at once; each new holder has it as primary.
    assert_eq!(wd.held_by(ALICE), (None, vec![]));
    assert_eq!(wd.held_by(BOB), (Some(uk(1)), vec![]));
    assert_eq!(wd.held_by(CAROL), (Some(uk(2)), vec![]));
    // To the current holder, already primary: unchanged.
    let run = wd.assignments("b.csv", &[&format!("{BOB},{},reassign", uk(1))], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "unchanged");
}

#[test]
fn reassign_of_a_free_number_works_as_assign() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments("a.csv", &[&format!("{DAVE},{},reassign", uk(9))], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "applied");
    assert_eq!(wd.held_by(DAVE), (Some(uk(9)), vec![]));
}

#[test]
fn reassign_is_held_back_by_the_default_cooldown() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[&format!("{ALICE},{},assign", uk(1))]);
    let run = wd.assignments("a.csv", &[&format!("{BOB},{},reassign", uk(1))], &[]);
    run.assert_code(1);
    assert_eq!(wd.codes(run.job()), vec![(2, "COOLDOWN".into())]);
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
}

#[test]
fn swap_free_number_makes_the_old_primary_available() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[
        &format!("{ALICE},{},assign", uk(1)),
        &format!("{ALICE},{},add", uk(2)),
    ]);
    let run = wd.assignments("a.csv", &[&format!("{ALICE},{},swap", uk(3))], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "applied");
    assert_eq!(wd.held_by(ALICE), (Some(uk(3)), vec![uk(2)]));
    // The old primary is available: in the inventory, held by nobody.
    assert!(wd.numbers_now().contains_key(&uk(1)));
    assert!(!wd.holdings().contains_key(&uk(1)));
    // Swap of the user's own primary: unchanged.
    let run = wd.assignments("b.csv", &[&format!("{ALICE},{},SWAP", uk(3))], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "unchanged");
    assert_eq!(wd.held_by(ALICE), (Some(uk(3)), vec![uk(2)]));
}

#[test]
fn swap_of_an_additional_number_trades_places_with_the_primary() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[
        &format!("{ALICE},{},assign", uk(1)),
        &format!("{ALICE},{},add", uk(2)),
        &format!("{ALICE},{},add", uk(3)),
    ]);
    let run = wd.assignments("a.csv", &[&format!("{ALICE},{},swap", uk(2))], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "applied");
    assert_eq!(wd.held_by(ALICE), (Some(uk(2)), vec![uk(1), uk(3)]));
}

#[test]
fn swap_for_a_user_without_primary_works_as_assign() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments("a.csv", &[&format!("{BOB},{},swap", uk(6))], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "applied");
    assert_eq!(wd.held_by(BOB), (Some(uk(6)), vec![]));
}

#[test]
fn add_of_own_primary_and_assign_of_own_additional_move_between_roles() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[
        &format!("{ALICE},{},assign", uk(1)),
        &format!("{ALICE},{},add", uk(2)),
    ]);
    let run = wd.assignments("a.csv", &[&format!("{ALICE},{},add", uk(1))], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "applied");
    assert_eq!(wd.held_by(ALICE), (None, vec![uk(1), uk(2)]));
    let run = wd.assignments("b.csv", &[&format!("{ALICE},{},assign", uk(2))], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "applied");
    assert_eq!(wd.held_by(ALICE), (Some(uk(2)), vec![uk(1)]));
    // Assign of an additional while she has a primary is USER_HAS_PRIMARY.
    let run = wd.assignments("c.csv", &[&format!("{ALICE},{},assign", uk(1))], &[]);
    run.assert_code(1);
    assert_eq!(wd.codes(run.job()), vec![(2, "USER_HAS_PRIMARY".into())]);
}

// ---- users ----------------------------------------------------------------

#[test]
fn upsert_creates_a_user_with_the_defaults() {
    let wd = Workdir::new();
    let run = wd.users("u.csv", &["Zed@Contoso.com,Zed Zimmer,,,"], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "applied");
    let users = wd.users_now();
    let zed = &users["zed@contoso.com"];
    assert_eq!(zed["DisplayName"], "Zed Zimmer");
    assert_eq!(zed["Plan"], "Connect");
    assert_eq!(zed["VoiceEnabled"], "true");
    assert_eq!(zed["Action"], "upsert");
}

#[test]
fn upsert_updates_the_given_fields_and_keeps_the_empty_ones() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.users(
        "u.csv",
        &[
            &format!("{ALICE},,Max,,upsert"),
            &format!("{BOB},Robert Baker,,,upsert"),
        ],
        &[],
    );
    run.assert_code(0);
    assert_eq!(
        wd.outcomes(run.job()),
        vec![(2, "applied".into()), (3, "applied".into())]
    );
    let users = wd.users_now();
    assert_eq!(users[ALICE]["DisplayName"], "Alice Archer");
    assert_eq!(users[ALICE]["Plan"], "Max");
    assert_eq!(users[ALICE]["VoiceEnabled"], "true");
    assert_eq!(users[BOB]["DisplayName"], "Robert Baker");
    assert_eq!(users[BOB]["Plan"], "Connect");
    // Turning voice on for Erin.
    let run = wd.users("v.csv", &[&format!("{ERIN},,,yes,upsert")], &[]);
    run.assert_code(0);
    assert_eq!(wd.users_now()[ERIN]["VoiceEnabled"], "true");
}

#[test]
fn upsert_with_nothing_new_is_unchanged() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.users(
        "u.csv",
        &[
            &format!("{CAROL},Carol Clark,advanced,TRUE,upsert"),
            &format!("{DAVE},,,,"),
        ],
        &[],
    );
    run.assert_code(0);
    assert_eq!(
        wd.outcomes(run.job()),
        vec![(2, "unchanged".into()), (3, "unchanged".into())]
    );
}

#[test]
fn remove_unassigns_the_numbers_and_again_is_unchanged() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[
        &format!("{BOB},{},assign", uk(3)),
        &format!("{BOB},{},add", uk(4)),
    ]);
    let run = wd.users("leave.csv", &[&format!("{BOB},,,,remove")], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "applied");
    assert!(!wd.users_now().contains_key(BOB));
    let holdings = wd.holdings();
    assert!(
        !holdings.contains_key(&uk(3)) && !holdings.contains_key(&uk(4)),
        "{holdings:?}"
    );
    let numbers = wd.numbers_now();
    assert!(numbers.contains_key(&uk(3)) && numbers.contains_key(&uk(4)));
    // Removing a removed user is unchanged.
    let run = wd.users("leave2.csv", &["bob@CONTOSO.com,,,,Remove"], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "unchanged");
    // A removed user can be given no number.
    let run = wd.assignments("a.csv", &[&format!("{BOB},{},assign", uk(5))], &[]);
    run.assert_code(1);
    assert_eq!(wd.codes(run.job()), vec![(2, "USER_NOT_FOUND".into())]);
}

#[test]
fn upsert_brings_a_removed_user_back_with_their_values_and_no_numbers() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[&format!("{CAROL},{},assign", uk(3))]);
    wd.users("leave.csv", &[&format!("{CAROL},,,,remove")], &[])
        .assert_code(0);
    let run = wd.users("back.csv", &[&format!("{CAROL},,,,upsert")], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "applied");
    let users = wd.users_now();
    let carol = &users[CAROL];
    assert_eq!(carol["DisplayName"], "Carol Clark");
    assert_eq!(carol["Plan"], "Advanced");
    assert_eq!(carol["VoiceEnabled"], "true");
    assert_eq!(wd.held_by(CAROL), (None, vec![]));
    // She can be given a number again.
    wd.assignments("a.csv", &[&format!("{CAROL},{},assign", uk(3))], &[])
        .assert_code(0);
    assert_eq!(wd.held_by(CAROL), (Some(uk(3)), vec![]));
}

#[test]
fn voice_enabled_spellings() {
    let wd = Workdir::new();
    let spellings = [
        ("true", "true"),
        ("FALSE", "false"),
        ("yes", "true"),
        ("No", "false"),
        ("y", "true"),
        ("N", "false"),
        ("1", "true"),
        ("0", "false"),
    ];
    let rows: Vec<String> = spellings
        .iter()
        .enumerate()
        .map(|(i, (v, _))| format!("u{i}@contoso.com,,,{v},"))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    wd.users("u.csv", &rows, &[]).assert_code(0);
    let users = wd.users_now();
    for (i, (v, want)) in spellings.iter().enumerate() {
        assert_eq!(
            users[&format!("u{i}@contoso.com")]["VoiceEnabled"],
            *want,
            "{v}"
        );
    }
}

// ---- numbers --------------------------------------------------------------

#[test]
fn numbers_add_new_then_unchanged_then_type_update() {
    let wd = Workdir::new();
    let run = wd.numbers(
        "n.csv",
        &["+442079460050,,", "+442079460051,SERVICE,Add"],
        &[],
    );
    run.assert_code(0);
    assert_eq!(
        wd.outcomes(run.job()),
        vec![(2, "applied".into()), (3, "applied".into())]
    );
    let numbers = wd.numbers_now();
    assert_eq!(numbers["+442079460050"], "subscriber");
    assert_eq!(numbers["+442079460051"], "service");
    // Again, same or empty type: unchanged.
    let run = wd.numbers(
        "n2.csv",
        &["+442079460050,subscriber,add", "+442079460051,,add"],
        &[],
    );
    run.assert_code(0);
    assert_eq!(
        wd.outcomes(run.job()),
        vec![(2, "unchanged".into()), (3, "unchanged".into())]
    );
    // Another type: updated.
    let run = wd.numbers(
        "n3.csv",
        &["+442079460050,service,add", "+442079460051,subscriber,add"],
        &[],
    );
    run.assert_code(0);
    assert_eq!(
        wd.outcomes(run.job()),
        vec![(2, "applied".into()), (3, "applied".into())]
    );
    let numbers = wd.numbers_now();
    assert_eq!(numbers["+442079460050"], "service");
    assert_eq!(numbers["+442079460051"], "subscriber");
}

#[test]
fn numbers_release_then_unchanged() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.numbers("r.csv", &[&format!("{},,release", uk(12))], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "applied");
    assert!(!wd.numbers_now().contains_key(&uk(12)));
    let run = wd.numbers("r2.csv", &[&format!("{},,RELEASE", uk(12))], &[]);
    run.assert_code(0);
    assert_eq!(outcome(&wd, &run, 2), "unchanged");
}

#[test]
fn a_number_unassigned_can_then_be_released() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[&format!("{ALICE},{},assign", uk(1))]);
    wd.assignments("a.csv", &[&format!(",{},unassign", uk(1))], &[])
        .assert_code(0);
    wd.numbers("r.csv", &[&format!("{},,release", uk(1))], &[])
        .assert_code(0);
    assert!(!wd.numbers_now().contains_key(&uk(1)));
}
