//! Every error code of SPEC §3, one test each: the code in the failed
//! report's ErrorCode column and something an admin can act on in Error.
//! Then the precedence between codes that apply to the same row.

mod util;

use util::*;

/// Runs an assignments file of one row (after the standard directory and
/// any `before` rows, given with `--cooldown 0`) and returns the failed
/// record of that row.
fn one_assignment_fails(before: &[&str], row: &str, extra: &[&str]) -> Rec {
    let wd = Workdir::new();
    wd.setup_directory();
    if !before.is_empty() {
        wd.give(before);
    }
    let run = wd.assignments("a.csv", &[row], extra);
    run.assert_code(1);
    let job = run.job();
    assert!(wd.succeeded(job).is_empty(), "{:?}", wd.succeeded(job));
    wd.failed_row(job, 2)
}

fn assert_code(rec: &Rec, code: &str, message_parts: &[&str]) {
    assert_eq!(rec["ErrorCode"], code, "{rec:?}");
    let msg = &rec["Error"];
    assert!(!msg.trim().is_empty(), "empty message: {rec:?}");
    for part in message_parts {
        assert!(
            msg.to_lowercase().contains(&part.to_lowercase()),
            "message {msg:?} should mention {part:?}"
        );
    }
}

#[test]
fn malformed_row_wrong_number_of_cells() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.run_csv(
        "a.csv",
        &format!(
            "{ASSIGNMENTS_HEADER}\n{ALICE},{},assign\n{BOB},{}\n{CAROL},{},assign,extra\n",
            uk(1),
            uk(2),
            uk(3)
        ),
        &[],
    );
    run.assert_code(1);
    let job = run.job();
    assert_eq!(
        wd.codes(job),
        vec![(3, "MALFORMED_ROW".into()), (4, "MALFORMED_ROW".into())]
    );
    assert_code(&wd.failed_row(job, 3), "MALFORMED_ROW", &["cell"]);
    // The good row still applied.
    assert_eq!(wd.outcomes(job), vec![(2, "applied".into())]);
}

#[test]
fn malformed_row_absurdly_long_cell() {
    let wd = Workdir::new();
    wd.setup_directory();
    let long = "x".repeat(20_000);
    let run = wd.users(
        "u.csv",
        &[&format!("zed@contoso.com,{long},Connect,true,upsert")],
        &[],
    );
    run.assert_code(1);
    let rec = wd.failed_row(run.job(), 2);
    assert_code(&rec, "MALFORMED_ROW", &[]);
    // Not taken: the user was not created.
    assert!(!wd.users_now().contains_key("zed@contoso.com"));
}

#[test]
fn missing_field_number_upn_and_users_upn() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "a.csv",
        &[
            &format!("{ALICE},,assign"),
            &format!(",{},assign", uk(1)),
            &format!(",{},add", uk(2)),
        ],
        &[],
    );
    run.assert_code(1);
    let job = run.job();
    assert_code(&wd.failed_row(job, 2), "MISSING_FIELD", &["PhoneNumber"]);
    assert_code(
        &wd.failed_row(job, 3),
        "MISSING_FIELD",
        &["UserPrincipalName"],
    );
    assert_code(
        &wd.failed_row(job, 4),
        "MISSING_FIELD",
        &["UserPrincipalName"],
    );

    let run = wd.users(
        "u.csv",
        &[",Nobody,Connect,true,upsert", "  ,Nobody,,,remove"],
        &[],
    );
    run.assert_code(1);
    let job = run.job();
    assert_code(
        &wd.failed_row(job, 2),
        "MISSING_FIELD",
        &["UserPrincipalName"],
    );
    assert_code(
        &wd.failed_row(job, 3),
        "MISSING_FIELD",
        &["UserPrincipalName"],
    );

    let run = wd.numbers("n.csv", &[",service,add"], &[]);
    run.assert_code(1);
    assert_code(
        &wd.failed_row(run.job(), 2),
        "MISSING_FIELD",
        &["PhoneNumber"],
    );
}

#[test]
fn invalid_upn_forms() {
    let wd = Workdir::new();
    wd.setup_directory();
    let bad = [
        "alice.contoso.com",
        "alice@contoso",
        "Alice Archer",
        "al ice@contoso.com",
        "@contoso.com",
        "alice@",
        "alice\u{200B}@contoso.com",
        "alice@contoso.com\u{200E}",
    ];
    let rows: Vec<String> = bad
        .iter()
        .enumerate()
        .map(|(i, u)| format!("\"{u}\",{},assign", uk(i as u32 + 1)))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let run = wd.assignments("a.csv", &rows, &[]);
    run.assert_code(1);
    let job = run.job();
    let codes = wd.codes(job);
    assert_eq!(codes.len(), bad.len(), "{codes:?}");
    for (row, code) in &codes {
        assert_eq!(code, "INVALID_UPN", "row {row}");
    }
    // The message quotes the value (the visible ones verbatim).
    assert_code(
        &wd.failed_row(job, 2),
        "INVALID_UPN",
        &["alice.contoso.com"],
    );
    assert_code(&wd.failed_row(job, 3), "INVALID_UPN", &["alice@contoso"]);
    // Invisible characters are shown escaped, never raw.
    for r in [8, 9] {
        let msg = &wd.failed_row(job, r)["Error"];
        assert!(
            !msg.contains('\u{200B}') && !msg.contains('\u{200E}'),
            "{msg:?}"
        );
    }
    assert!(wd.holdings().is_empty());
}

#[test]
fn unknown_action() {
    let rec = one_assignment_fails(&[], &format!("{ALICE},{},move", uk(1)), &[]);
    assert_code(&rec, "UNKNOWN_ACTION", &["move", "assign"]);
}

#[test]
fn unknown_action_in_users_and_numbers_files() {
    let wd = Workdir::new();
    wd.setup_directory();
    // `assign` is an assignments action, not a users one.
    let run = wd.users(
        "u.csv",
        &[&format!("{ALICE},,,,assign"), &format!("{BOB},,,,delete")],
        &[],
    );
    run.assert_code(1);
    let job = run.job();
    assert_code(
        &wd.failed_row(job, 2),
        "UNKNOWN_ACTION",
        &["assign", "upsert"],
    );
    assert_code(&wd.failed_row(job, 3), "UNKNOWN_ACTION", &["delete"]);
    let run = wd.numbers("n.csv", &[&format!("{},,remove", uk(1))], &[]);
    run.assert_code(1);
    assert_code(
        &wd.failed_row(run.job(), 2),
        "UNKNOWN_ACTION",
        &["remove", "release"],
    );
    // Bob is still there, the number too.
    assert!(wd.users_now().contains_key(BOB));
    assert!(wd.numbers_now().contains_key(&uk(1)));
}

#[test]
fn invalid_value_plan_voice_enabled_and_number_type() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.users(
        "u.csv",
        &[
            "zed@contoso.com,Zed,Gold,true,upsert",
            "yan@contoso.com,Yan,Connect,perhaps,upsert",
        ],
        &[],
    );
    run.assert_code(1);
    let job = run.job();
    assert_code(&wd.failed_row(job, 2), "INVALID_VALUE", &["Gold"]);
    assert_code(&wd.failed_row(job, 3), "INVALID_VALUE", &["perhaps"]);
    let run = wd.numbers("n.csv", &["+442079460050,mobile,add"], &[]);
    run.assert_code(1);
    assert_code(&wd.failed_row(run.job(), 2), "INVALID_VALUE", &["mobile"]);
    assert!(!wd.users_now().contains_key("zed@contoso.com"));
    assert!(!wd.numbers_now().contains_key("+442079460050"));
}

#[test]
fn spreadsheet_mangled() {
    let rec = one_assignment_fails(&[], &format!("{ALICE},4.42079460011E+11,add"), &[]);
    assert_code(&rec, "SPREADSHEET_MANGLED", &[]);
}

#[test]
fn spreadsheet_mangled_message_is_actionable() {
    let rec = one_assignment_fails(&[], &format!("{ALICE},4.42079460011E+11,add"), &[]);
    // The message shows the value and says what happened to it.
    assert_code(&rec, "SPREADSHEET_MANGLED", &["4.42079460011E+11"]);
    let msg = rec["Error"].to_lowercase();
    assert!(
        msg.contains("scientific") || msg.contains("text"),
        "{msg:?}"
    );
}

#[test]
fn not_e164() {
    let rec = one_assignment_fails(&[], &format!("{ALICE},442079460003,assign"), &[]);
    assert_code(&rec, "NOT_E164", &["442079460003"]);
}

#[test]
fn not_e164_suggests_the_plus_form() {
    let rec = one_assignment_fails(&[], &format!("{ALICE},442079460003,assign"), &[]);
    assert_code(&rec, "NOT_E164", &["+442079460003"]);
}

#[test]
fn invalid_number() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "a.csv",
        &[
            &format!("{ALICE},+44 20 7946 001,add"),
            &format!("{BOB},+4412,assign"),
            &format!("{CAROL},+44abc,assign"),
        ],
        &[],
    );
    run.assert_code(1);
    let job = run.job();
    for row in 2..=4 {
        assert_eq!(
            wd.failed_row(job, row)["ErrorCode"],
            "INVALID_NUMBER",
            "row {row}"
        );
    }
}

#[test]
fn invalid_number_message_shows_the_number() {
    let rec = one_assignment_fails(&[], &format!("{ALICE},+44 20 7946 001,add"), &[]);
    let msg = &rec["Error"];
    assert_eq!(rec["ErrorCode"], "INVALID_NUMBER");
    assert!(
        msg.contains("+44 20 7946 001") || msg.contains("+44207946001"),
        "{msg:?}"
    );
}

#[test]
fn duplicate_in_file() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "a.csv",
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!("{BOB},{},add", uk(1)),
        ],
        &[],
    );
    run.assert_code(1);
    let job = run.job();
    assert_eq!(wd.outcomes(job), vec![(2, "applied".into())]);
    assert_code(
        &wd.failed_row(job, 3),
        "DUPLICATE_IN_FILE",
        &[&uk(1), "row 2"],
    );
}

#[test]
fn user_not_found_unknown_and_removed() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.users("leavers.csv", &[&format!("{BOB},,,,remove")], &[])
        .assert_code(0);
    let run = wd.assignments(
        "a.csv",
        &[
            &format!("nobody@contoso.com,{},assign", uk(1)),
            &format!("{BOB},{},assign", uk(2)),
            &format!("nobody@contoso.com,{},unassign", uk(3)),
        ],
        &[],
    );
    run.assert_code(1);
    let job = run.job();
    assert_code(
        &wd.failed_row(job, 2),
        "USER_NOT_FOUND",
        &["nobody@contoso.com"],
    );
    assert_code(&wd.failed_row(job, 3), "USER_NOT_FOUND", &[BOB]);
    // USER_NOT_FOUND applies to every row that names a user, unassign too.
    assert_code(
        &wd.failed_row(job, 4),
        "USER_NOT_FOUND",
        &["nobody@contoso.com"],
    );
    // remove of a user who never existed.
    let run = wd.users("u.csv", &["ghost@contoso.com,,,,remove"], &[]);
    run.assert_code(1);
    assert_code(
        &wd.failed_row(run.job(), 2),
        "USER_NOT_FOUND",
        &["ghost@contoso.com"],
    );
}

#[test]
fn user_not_voice_enabled() {
    let rec = one_assignment_fails(&[], &format!("{ERIN},{},assign", uk(1)), &[]);
    assert_code(&rec, "USER_NOT_VOICE_ENABLED", &[ERIN]);
}

#[test]
fn user_not_voice_enabled_only_for_rows_that_give() {
    let wd = Workdir::new();
    wd.setup_directory();
    // Erin holds nothing: an unassign naming her of a free number is unchanged.
    let run = wd.assignments("a.csv", &[&format!("{ERIN},{},unassign", uk(1))], &[]);
    run.assert_code(0);
    assert_eq!(wd.outcomes(run.job()), vec![(2, "unchanged".into())]);
    // Every giving action is refused.
    let rows: Vec<String> = ["assign", "add", "reassign", "swap"]
        .iter()
        .enumerate()
        .map(|(i, a)| format!("{ERIN},{},{a}", uk(i as u32 + 2)))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let run = wd.assignments("b.csv", &rows, &[]);
    run.assert_code(1);
    let codes = wd.codes(run.job());
    assert_eq!(codes.len(), 4);
    assert!(
        codes.iter().all(|(_, c)| c == "USER_NOT_VOICE_ENABLED"),
        "{codes:?}"
    );
}

#[test]
fn number_not_found() {
    let rec = one_assignment_fails(&[], &format!("{ALICE},{NOT_IN_INVENTORY},add"), &[]);
    assert_code(&rec, "NUMBER_NOT_FOUND", &[NOT_IN_INVENTORY]);
}

#[test]
fn number_not_found_for_unassign_and_release() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments("a.csv", &[&format!(",{NOT_IN_INVENTORY},unassign")], &[]);
    run.assert_code(1);
    assert_code(
        &wd.failed_row(run.job(), 2),
        "NUMBER_NOT_FOUND",
        &[NOT_IN_INVENTORY],
    );
    let run = wd.numbers("n.csv", &[&format!("{NOT_IN_INVENTORY},,release")], &[]);
    run.assert_code(1);
    assert_code(
        &wd.failed_row(run.job(), 2),
        "NUMBER_NOT_FOUND",
        &[NOT_IN_INVENTORY],
    );
}

#[test]
fn number_released() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.numbers("retire.csv", &[&format!("{},,release", uk(5))], &[])
        .assert_code(0);
    let run = wd.assignments(
        "a.csv",
        &[
            &format!("{ALICE},{},assign", uk(5)),
            &format!(",{},unassign", uk(5)),
        ],
        &[],
    );
    run.assert_code(1);
    let job = run.job();
    assert_code(&wd.failed_row(job, 2), "NUMBER_RELEASED", &[&uk(5)]);
    assert_code(&wd.failed_row(job, 3), "NUMBER_RELEASED", &[&uk(5)]);
    // A released number can never be added back.
    let run = wd.numbers("again.csv", &[&format!("{},subscriber,add", uk(5))], &[]);
    run.assert_code(1);
    assert_code(&wd.failed_row(run.job(), 2), "NUMBER_RELEASED", &[&uk(5)]);
    assert!(!wd.numbers_now().contains_key(&uk(5)));
}

#[test]
fn service_number() {
    let rec = one_assignment_fails(&[], &format!("{ALICE},{UK_SERVICE},assign"), &[]);
    assert_code(&rec, "SERVICE_NUMBER", &[UK_SERVICE]);
}

#[test]
fn number_assigned_to_another_user() {
    let rec = one_assignment_fails(
        &[&format!("{ALICE},{},assign", uk(1))],
        &format!("{BOB},{},assign", uk(1)),
        &["--cooldown", "0"],
    );
    assert_code(&rec, "NUMBER_ASSIGNED", &[&uk(1), ALICE]);
}

#[test]
fn number_assigned_for_add_swap_release_and_service_change() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[&format!("{ALICE},{},assign", uk(1))]);
    // (Two files: in one, the add would leave the number given to Bob and
    // the swap would be DUPLICATE_IN_FILE.)
    let run = wd.assignments(
        "a.csv",
        &[&format!("{BOB},{},add", uk(1))],
        &["--cooldown", "0"],
    );
    run.assert_code(1);
    assert_eq!(wd.codes(run.job()), vec![(2, "NUMBER_ASSIGNED".into())]);
    let run = wd.assignments(
        "b.csv",
        &[&format!("{CAROL},{},swap", uk(1))],
        &["--cooldown", "0"],
    );
    run.assert_code(1);
    assert_eq!(wd.codes(run.job()), vec![(2, "NUMBER_ASSIGNED".into())]);
    let run = wd.numbers("n.csv", &[&format!("{},,release", uk(1))], &[]);
    run.assert_code(1);
    assert_code(&wd.failed_row(run.job(), 2), "NUMBER_ASSIGNED", &[&uk(1)]);
    let run = wd.numbers("n2.csv", &[&format!("{},service,add", uk(1))], &[]);
    run.assert_code(1);
    assert_code(&wd.failed_row(run.job(), 2), "NUMBER_ASSIGNED", &[&uk(1)]);
    // Nothing moved.
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
    assert_eq!(wd.numbers_now()[&uk(1)], "subscriber");
}

#[test]
fn number_assigned_when_turning_voice_off_for_a_holder() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[&format!("{ALICE},{},assign", uk(1))]);
    let run = wd.users("u.csv", &[&format!("{ALICE},,,false,upsert")], &[]);
    run.assert_code(1);
    assert_code(&wd.failed_row(run.job(), 2), "NUMBER_ASSIGNED", &[ALICE]);
    assert_eq!(wd.users_now()[ALICE]["VoiceEnabled"], "true");
}

#[test]
fn not_assigned_to_user() {
    let rec = one_assignment_fails(
        &[&format!("{ALICE},{},assign", uk(1))],
        &format!("{BOB},{},unassign", uk(1)),
        &[],
    );
    assert_code(&rec, "NOT_ASSIGNED_TO_USER", &[&uk(1), ALICE, BOB]);
}

#[test]
fn user_has_primary() {
    let rec = one_assignment_fails(
        &[&format!("{ALICE},{},assign", uk(1))],
        &format!("{ALICE},{},assign", uk(2)),
        &[],
    );
    assert_code(&rec, "USER_HAS_PRIMARY", &[ALICE, &uk(1)]);
}

#[test]
fn user_has_primary_on_reassign() {
    let rec = one_assignment_fails(
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!("{BOB},{},assign", uk(2)),
        ],
        &format!("{ALICE},{},reassign", uk(2)),
        &["--cooldown", "0"],
    );
    assert_code(&rec, "USER_HAS_PRIMARY", &[ALICE]);
}

#[test]
fn plan_limit() {
    let rec = one_assignment_fails(
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!("{ALICE},{},add", uk(2)),
            &format!("{ALICE},{},add", uk(3)),
            &format!("{ALICE},{},add", uk(4)),
            &format!("{ALICE},{},add", uk(5)),
        ],
        &format!("{ALICE},{},add", uk(6)),
        &[],
    );
    assert_code(&rec, "PLAN_LIMIT", &[ALICE, "5"]);
}

#[test]
fn cooldown() {
    let rec = one_assignment_fails(
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!("{ALICE},{},unassign", uk(1)),
        ],
        &format!("{BOB},{},assign", uk(1)),
        &[],
    );
    assert_code(&rec, "COOLDOWN", &[&uk(1)]);
}

/// One row to which several codes apply gets the first in the table's order.
#[test]
fn precedence_of_codes() {
    let wd = Workdir::new();
    wd.setup_directory();
    // Alice holds uk(1) as primary; Bob holds uk(2) as primary and is at his
    // cap of 5 (uk 2..=6); uk(7) was Carol's and is free again.
    wd.give(&[
        &format!("{ALICE},{},assign", uk(1)),
        &format!("{BOB},{},assign", uk(2)),
        &format!("{BOB},{},add", uk(3)),
        &format!("{BOB},{},add", uk(4)),
        &format!("{BOB},{},add", uk(5)),
        &format!("{BOB},{},add", uk(6)),
        &format!("{CAROL},{},assign", uk(7)),
        &format!("{CAROL},{},unassign", uk(7)),
    ]);
    let cases: &[(&str, &str)] = &[
        // MALFORMED_ROW before MISSING_FIELD (one cell, the others missing).
        ("not a upn", "MALFORMED_ROW"),
        // MISSING_FIELD before INVALID_UPN.
        ("not a upn,,assign", "MISSING_FIELD"),
        // MISSING_FIELD before UNKNOWN_ACTION.
        (&format!("{ALICE},,bogus"), "MISSING_FIELD"),
        // INVALID_UPN before UNKNOWN_ACTION and INVALID_NUMBER.
        ("not a upn,+4412,bogus", "INVALID_UPN"),
        // UNKNOWN_ACTION before NOT_E164.
        (&format!("{ALICE},442079460001,bogus"), "UNKNOWN_ACTION"),
        // USER_NOT_FOUND before NUMBER_NOT_FOUND.
        (
            &format!("nobody@contoso.com,{NOT_IN_INVENTORY},assign"),
            "USER_NOT_FOUND",
        ),
        // USER_NOT_VOICE_ENABLED before SERVICE_NUMBER.
        (
            &format!("{ERIN},{UK_SERVICE},assign"),
            "USER_NOT_VOICE_ENABLED",
        ),
        // NUMBER_NOT_FOUND before USER_HAS_PRIMARY.
        // (another number than above: that row left NOT_IN_INVENTORY given to nobody@.)
        (&format!("{ALICE},+14255550199,assign"), "NUMBER_NOT_FOUND"),
        // SERVICE_NUMBER before USER_HAS_PRIMARY.
        (&format!("{ALICE},{US_SERVICE},assign"), "SERVICE_NUMBER"),
        // NUMBER_ASSIGNED before USER_HAS_PRIMARY (Bob has a primary, uk(1) is Alice's).
        (&format!("{BOB},{},assign", uk(1)), "NUMBER_ASSIGNED"),
        // USER_HAS_PRIMARY before PLAN_LIMIT (Bob is at his cap and has a primary).
        (&format!("{BOB},{},assign", uk(8)), "USER_HAS_PRIMARY"),
        // PLAN_LIMIT before COOLDOWN (uk(7) went to Carol just now).
        (&format!("{BOB},{},add", uk(7)), "PLAN_LIMIT"),
    ];
    let rows: Vec<&str> = cases.iter().map(|(r, _)| *r).collect();
    let run = wd.assignments("p.csv", &rows, &[]);
    run.assert_code(1);
    let got = wd.codes(run.job());
    let want: Vec<(u64, String)> = cases
        .iter()
        .enumerate()
        .map(|(i, (_, c))| (i as u64 + 2, c.to_string()))
        .collect();
    assert_eq!(got, want);
}

/// The same for users and numbers files.
#[test]
fn precedence_of_codes_in_users_and_numbers_files() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.users(
        "u.csv",
        &[
            // INVALID_UPN before UNKNOWN_ACTION and INVALID_VALUE.
            "zed at contoso,,Gold,maybe,bogus",
            // UNKNOWN_ACTION before INVALID_VALUE.
            "zed@contoso.com,,Gold,maybe,bogus",
            // USER_NOT_FOUND (remove of a user never there) is found once the
            // row-local checks pass.
            "yan@contoso.com,,,,remove",
        ],
        &[],
    );
    run.assert_code(1);
    assert_eq!(
        wd.codes(run.job()),
        vec![
            (2, "INVALID_UPN".into()),
            (3, "UNKNOWN_ACTION".into()),
            (4, "USER_NOT_FOUND".into())
        ]
    );
    let run = wd.numbers(
        "n.csv",
        &[
            // UNKNOWN_ACTION before INVALID_VALUE before SPREADSHEET_MANGLED.
            "4.42079460011E+11,mobile,bogus",
            "4.42079460011E+11,mobile,add",
            "4.42079460011E+11,service,add",
            // NOT_E164 before NUMBER_NOT_FOUND.
            "442079460099,,release",
        ],
        &[],
    );
    run.assert_code(1);
    assert_eq!(
        wd.codes(run.job()),
        vec![
            (2, "UNKNOWN_ACTION".into()),
            (3, "INVALID_VALUE".into()),
            (4, "SPREADSHEET_MANGLED".into()),
            (5, "NOT_E164".into())
        ]
    );
}
