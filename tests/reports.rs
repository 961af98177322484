//! The two per-job reports of SPEC §5: names, columns, normalisation,
//! formula neutralising, completeness, and a failed report handed back in.

mod util;

use std::collections::BTreeSet;
use util::*;

const OK_TAIL: [&str; 3] = ["Row", "Outcome", "Detail"];
const BAD_TAIL: [&str; 3] = ["Row", "ErrorCode", "Error"];

fn header_of(cols: &[&str], tail: [&str; 3]) -> Vec<String> {
    cols.iter()
        .chain(tail.iter())
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn report_file_names_use_job_id_and_stem() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "team.q3 moves.csv",
        &[&format!("{ALICE},{},assign", uk(1))],
        &[],
    );
    run.assert_code(0);
    let id = run.job().id;
    assert!(wd.exists(&format!("reports/{id}-team.q3 moves.succeeded.csv")));
    assert!(wd.exists(&format!("reports/{id}-team.q3 moves.failed.csv")));
    // The setup jobs have theirs too.
    assert!(wd.exists("reports/1-std-users.succeeded.csv"));
    assert!(wd.exists("reports/2-std-numbers.failed.csv"));
    // The paths are named in the run's output.
    assert!(
        run.stdout
            .contains(&format!("{id}-team.q3 moves.succeeded.csv")),
        "{}",
        run.stdout
    );
}

#[test]
fn reports_folder_option() {
    let wd = Workdir::new();
    let run = wd.numbatch(&["--reports", "out/here", "run", "std.csv"]);
    run.assert_code(2); // no such file yet
    wd.create("n.csv", &csv_text(NUMBERS_HEADER, &["+442079460050,,add"]));
    let run = wd.numbatch(&["--reports", "out/here", "run", "n.csv"]);
    run.assert_code(0);
    let id = run.job().id;
    assert!(wd.exists(&format!("out/here/{id}-n.succeeded.csv")));
    assert!(wd.exists(&format!("out/here/{id}-n.failed.csv")));
    assert!(!wd.exists(&format!("reports/{id}-n.succeeded.csv")));
}

#[test]
fn columns_in_template_order_whatever_the_input_order() {
    let wd = Workdir::new();
    wd.setup_directory();
    let text = format!(
        "Action,PhoneNumber,UserPrincipalName\nassign,{},{ALICE}\nADD,{NOT_IN_INVENTORY},Bob@Contoso.com\n",
        uk(1)
    );
    let run = wd.run_csv("reordered.csv", &text, &[]);
    run.assert_code(1);
    let job = run.job();
    let cols = ["UserPrincipalName", "PhoneNumber", "Action"];
    let (ok_header, ok_rows) = wd.report_table(job, "succeeded");
    assert_eq!(ok_header, header_of(&cols, OK_TAIL));
    assert_eq!(
        ok_rows[0][..4],
        [ALICE.to_string(), uk(1), "assign".into(), "2".into()]
    );
    let (bad_header, bad_rows) = wd.report_table(job, "failed");
    assert_eq!(bad_header, header_of(&cols, BAD_TAIL));
    assert_eq!(
        bad_rows[0][..5],
        [
            "Bob@Contoso.com".to_string(),
            NOT_IN_INVENTORY.into(),
            "ADD".into(),
            "3".into(),
            "NUMBER_NOT_FOUND".into()
        ]
    );
}

#[test]
fn users_and_numbers_report_columns() {
    let wd = Workdir::new();
    let text = "VoiceEnabled,Action,UserPrincipalName,Plan,DisplayName\nyes,,Zed@Contoso.com,max,Zed\nno,upsert,yan@contoso.com,Gold,Yan\n";
    let run = wd.run_csv("u.csv", text, &[]);
    run.assert_code(1);
    let job = run.job();
    let cols = [
        "UserPrincipalName",
        "DisplayName",
        "Plan",
        "VoiceEnabled",
        "Action",
    ];
    let (ok_header, ok_rows) = wd.report_table(job, "succeeded");
    assert_eq!(ok_header, header_of(&cols, OK_TAIL));
    assert_eq!(
        ok_rows[0][..6],
        ["zed@contoso.com", "Zed", "Max", "true", "upsert", "2"]
    );
    let (bad_header, bad_rows) = wd.report_table(job, "failed");
    assert_eq!(bad_header, header_of(&cols, BAD_TAIL));
    assert_eq!(
        bad_rows[0][..7],
        [
            "yan@contoso.com",
            "Yan",
            "Gold",
            "no",
            "upsert",
            "3",
            "INVALID_VALUE"
        ]
    );

    let run = wd.run_csv(
        "n.csv",
        "Action,NumberType,PhoneNumber\nAdd,SUBSCRIBER,+44 20 7946 0050\n",
        &[],
    );
    run.assert_code(0);
    let (ok_header, ok_rows) = wd.report_table(run.job(), "succeeded");
    assert_eq!(
        ok_header,
        header_of(&["PhoneNumber", "NumberType", "Action"], OK_TAIL)
    );
    assert_eq!(ok_rows[0][..4], ["+442079460050", "subscriber", "add", "2"]);
}

#[test]
fn succeeded_report_is_normalised() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "a.csv",
        &[
            "Alice@Contoso.COM,+44 20 7946 0001,",
            &format!(" BOB@contoso.com ,tel:{},ADD", uk(2)),
            &format!("'{CAROL},'+1 (212) 555-0101,Swap"),
        ],
        &[],
    );
    run.assert_code(0);
    let job = run.job();
    let (_, rows) = wd.report_table(job, "succeeded");
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r[..4].to_vec()).collect();
    assert_eq!(
        cells,
        vec![
            vec![ALICE.to_string(), uk(1), "assign".into(), "2".into()],
            vec![BOB.to_string(), uk(2), "add".into(), "3".into()],
            vec![CAROL.to_string(), us(1), "swap".into(), "4".into()],
        ]
    );
    // Outcome and a Detail an admin can read.
    for r in wd.succeeded(job) {
        assert_eq!(r["Outcome"], "applied");
        assert!(!r["Detail"].trim().is_empty(), "{r:?}");
    }
}

#[test]
fn succeeded_users_report_spells_values_as_exports_do() {
    let wd = Workdir::new();
    let run = wd.users(
        "u.csv",
        &[
            "A@Contoso.com,A,connect,Y,",
            "B@Contoso.com,B,ADVANCED,0,Upsert",
            "C@Contoso.com,C,mAx,No,UPSERT",
        ],
        &[],
    );
    run.assert_code(0);
    let (_, rows) = wd.report_table(run.job(), "succeeded");
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r[..5].to_vec()).collect();
    assert_eq!(
        cells,
        vec![
            vec!["a@contoso.com", "A", "Connect", "true", "upsert"],
            vec!["b@contoso.com", "B", "Advanced", "false", "upsert"],
            vec!["c@contoso.com", "C", "Max", "false", "upsert"],
        ]
    );
    let run = wd.numbers(
        "n.csv",
        &["+442079460050,SERVICE,", "+442079460051,Subscriber,ADD"],
        &[],
    );
    run.assert_code(0);
    let (_, rows) = wd.report_table(run.job(), "succeeded");
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r[..3].to_vec()).collect();
    assert_eq!(
        cells,
        vec![
            vec!["+442079460050", "service", "add"],
            vec!["+442079460051", "subscriber", "add"]
        ]
    );
}

#[test]
fn failed_report_keeps_the_row_as_written() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "a.csv",
        &[
            &format!("Bob@Contoso.COM,{NOT_IN_INVENTORY},ADD"),
            "nobody@Contoso.com,+12125550102,Assign",
            &format!("{ALICE},442079460003,"),
        ],
        &[],
    );
    run.assert_code(1);
    let (_, rows) = wd.report_table(run.job(), "failed");
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r[..5].to_vec()).collect();
    assert_eq!(
        cells,
        vec![
            vec![
                "Bob@Contoso.COM".to_string(),
                NOT_IN_INVENTORY.into(),
                "ADD".into(),
                "2".into(),
                "NUMBER_NOT_FOUND".into()
            ],
            vec![
                "nobody@Contoso.com".into(),
                "+12125550102".into(),
                "Assign".into(),
                "3".into(),
                "USER_NOT_FOUND".into()
            ],
            vec![
                ALICE.into(),
                "442079460003".into(),
                "".into(),
                "4".into(),
                "NOT_E164".into()
            ],
        ]
    );
    for r in wd.failed(run.job()) {
        assert!(!r["Error"].trim().is_empty(), "{r:?}");
    }
}

#[test]
fn both_reports_are_written_even_when_empty() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments("good.csv", &[&format!("{ALICE},{},assign", uk(1))], &[]);
    run.assert_code(0);
    let (header, rows) = wd.report_table(run.job(), "failed");
    assert_eq!(
        header,
        header_of(&["UserPrincipalName", "PhoneNumber", "Action"], BAD_TAIL)
    );
    assert!(rows.is_empty());
    let run = wd.assignments(
        "bad.csv",
        &[&format!("nobody@contoso.com,{},assign", uk(2))],
        &[],
    );
    run.assert_code(1);
    let (header, rows) = wd.report_table(run.job(), "succeeded");
    assert_eq!(
        header,
        header_of(&["UserPrincipalName", "PhoneNumber", "Action"], OK_TAIL)
    );
    assert!(rows.is_empty());
}

#[test]
fn formula_cells_are_neutralised_but_e164_numbers_are_not() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.users(
        "u.csv",
        &[
            "f1@contoso.com,\"=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",,,",
            "f2@contoso.com,@SUM(A1),,,",
            "f3@contoso.com,-2+3,,,",
            "f4@contoso.com,+cmd,,,",
            "f5@contoso.com,Plain Name,,,",
        ],
        &[],
    );
    run.assert_code(0);
    let ok = wd.succeeded(run.job());
    let names: Vec<&str> = ok.iter().map(|r| r["DisplayName"].as_str()).collect();
    assert_eq!(
        names,
        [
            "'=HYPERLINK(\"http://evil\",\"x\")",
            "'@SUM(A1)",
            "'-2+3",
            "'+cmd",
            "Plain Name"
        ]
    );
    // Exports too.
    let users = wd.users_now();
    assert_eq!(users["f2@contoso.com"]["DisplayName"], "'@SUM(A1)");
    assert_eq!(users["f5@contoso.com"]["DisplayName"], "Plain Name");

    // The failed report neutralises the cells as written; E.164 numbers stay.
    let run = wd.assignments(
        "a.csv",
        &[
            &format!("\"=cmd|' /C calc'!A0\",{},assign", uk(1)),
            &format!("{ALICE},+44 20 7946 001,add"),
            &format!("{ALICE},{},=1+1", uk(2)),
            &format!("{BOB},{},assign", uk(3)),
        ],
        &[],
    );
    run.assert_code(1);
    let job = run.job();
    let r2 = wd.failed_row(job, 2);
    assert_eq!(r2["UserPrincipalName"], "'=cmd|' /C calc'!A0");
    assert_eq!(r2["PhoneNumber"], uk(1));
    assert_eq!(wd.failed_row(job, 3)["PhoneNumber"], "'+44 20 7946 001");
    assert_eq!(wd.failed_row(job, 4)["Action"], "'=1+1");
    assert_eq!(wd.succeeded_row(job, 5)["PhoneNumber"], uk(3));
    // Raw text: the E.164 number is written bare.
    assert!(
        wd.report_text(job, "succeeded")
            .contains(&format!("{BOB},{},assign,5", uk(3)))
    );
    // No cell of any report starts with a formula character unless it is E.164.
    for which in ["succeeded", "failed"] {
        let (_, rows) = wd.report_table(job, which);
        for cell in rows.iter().flatten() {
            if let Some(c) = cell.chars().next() {
                let e164 = cell.starts_with('+') && cell[1..].bytes().all(|b| b.is_ascii_digit());
                assert!(
                    !matches!(c, '=' | '-' | '@' | '\t' | '\r') && (c != '+' || e164),
                    "{which}: {cell:?}"
                );
            }
        }
    }
}

#[test]
fn every_input_row_is_in_exactly_one_report() {
    let wd = Workdir::new();
    wd.setup_directory();
    let text = format!(
        "{ASSIGNMENTS_HEADER}\n\
         {ALICE},{},assign\n\
         {ALICE},{},assign\n\
         \n\
         {BOB},{},add\n\
         {BOB},{}\n\
         ,,\n\
         {CAROL},4.4E+11,add\n\
         {ERIN},{},assign\n\
         {DAVE},{},swap\n\
         ,{},unassign\n\
         ,{},unassign\n",
        uk(1),
        uk(2),
        uk(3),
        uk(4),
        uk(5),
        uk(6),
        uk(3),
        uk(12)
    );
    let run = wd.run_csv("mixed.csv", &text, &[]);
    run.assert_code(1);
    let job = run.job();
    let ok: Vec<u64> = wd.succeeded(job).iter().map(row_of).collect();
    let bad: Vec<u64> = wd.failed(job).iter().map(row_of).collect();
    let ok_set: BTreeSet<u64> = ok.iter().copied().collect();
    let bad_set: BTreeSet<u64> = bad.iter().copied().collect();
    assert_eq!(ok.len(), ok_set.len(), "a row twice in succeeded: {ok:?}");
    assert_eq!(bad.len(), bad_set.len(), "a row twice in failed: {bad:?}");
    assert!(ok_set.is_disjoint(&bad_set), "{ok:?} {bad:?}");
    let all: BTreeSet<u64> = ok_set.union(&bad_set).copied().collect();
    // Rows 4 and 7 are blank lines.
    let want: BTreeSet<u64> = [2, 3, 5, 6, 8, 9, 10, 11, 12].into_iter().collect();
    assert_eq!(all, want);
    assert_eq!(bad, vec![3, 6, 8, 9]);
    let j = wd.job_json(job.id);
    assert_eq!(j["rows"], 9);
    assert_eq!(j["failed"], 4);
    assert_eq!(
        j["applied"].as_u64().unwrap() + j["unchanged"].as_u64().unwrap(),
        5
    );
}

#[test]
fn failed_report_fixed_and_handed_back_in_as_it_is() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "batch.csv",
        &[
            &format!("{ALICE},{},assign", uk(1)),
            // A typo in the domain: USER_NOT_FOUND.
            &format!("bob@contoso.con,{},assign", uk(2)),
            // A digit missing: INVALID_NUMBER; the report neutralises it.
            &format!("{CAROL},+44 20 7946 000,add"),
        ],
        &[],
    );
    run.assert_code(1);
    let job = run.job().clone();
    let (header, mut rows) = wd.report_table(&job, "failed");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][1], "'+44 20 7946 000");
    // The admin fixes the two cells in the spreadsheet and saves it under
    // the same name, report columns and all.
    rows[0][0] = BOB.to_string();
    rows[1][1] = "'+44 20 7946 0003".to_string();
    let fixed = write_csv(&header, &rows);
    wd.create("batch-fixed.csv", &fixed);
    let run = wd.run_files(&["batch-fixed.csv"], &[]);
    run.assert_code(0);
    let job2 = run.job();
    // The rows keep their place in the handed-back file (rows 2 and 3 of it).
    assert_eq!(
        wd.outcomes(job2),
        vec![(2, "applied".into()), (3, "applied".into())]
    );
    assert_eq!(wd.held_by(BOB), (Some(uk(2)), vec![]));
    assert_eq!(wd.held_by(CAROL), (None, vec![uk(3)]));
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
}

#[test]
fn failed_report_handed_back_unfixed_fails_again_with_a_clean_report() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "batch.csv",
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!("nobody@contoso.com,{},assign", uk(2)),
        ],
        &[],
    );
    run.assert_code(1);
    let failed = format!("reports/{}-batch.failed.csv", run.job().id);
    let run = wd.run_files(&[&failed], &[]);
    run.assert_code(1);
    let job = run.job();
    assert!(job.stem.ends_with("batch.failed"), "{job:?}");
    let (header, rows) = wd.report_table(job, "failed");
    assert_eq!(
        header,
        [
            "UserPrincipalName",
            "PhoneNumber",
            "Action",
            "Row",
            "ErrorCode",
            "Error"
        ]
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0][..5],
        [
            "nobody@contoso.com".to_string(),
            uk(2),
            "assign".into(),
            "2".into(),
            "USER_NOT_FOUND".into()
        ]
    );
}

#[test]
fn failed_users_report_handed_back_in() {
    let wd = Workdir::new();
    let run = wd.users("people.csv", &["zed@contoso.com,Zed,Gold,true,upsert"], &[]);
    run.assert_code(1);
    let (header, mut rows) = wd.report_table(run.job(), "failed");
    rows[0][2] = "Max".into();
    wd.create("people-fixed.csv", &write_csv(&header, &rows));
    wd.run_files(&["people-fixed.csv"], &[]).assert_code(0);
    assert_eq!(wd.users_now()["zed@contoso.com"]["Plan"], "Max");
}

#[test]
fn messages_escape_control_characters_from_the_input() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "ctl.csv",
        &[
            &format!("ali\u{1b}[31mce@contoso.com,{},assign", uk(1)),
            &format!("{ALICE},{},as\u{1b}[2Jsign", uk(2)),
        ],
        &[],
    );
    run.assert_code(1);
    let job = run.job();
    let failed = wd.failed(job);
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0]["ErrorCode"], "INVALID_UPN");
    assert_eq!(failed[1]["ErrorCode"], "UNKNOWN_ACTION");
    for r in &failed {
        assert!(!has_raw_control(&r["Error"]), "{:?}", r["Error"]);
        assert!(
            r["Error"].contains("[31m") || r["Error"].contains("[2J"),
            "{:?}",
            r["Error"]
        );
    }
    assert!(!has_raw_control(&run.stdout) && !has_raw_control(&run.stderr));
    // `job ID` shows the failures by code with their messages, escaped.
    let shown = wd.exec(&["job", &job.id.to_string()]);
    shown.assert_code(0);
    assert!(!has_raw_control(&shown.stdout), "{:?}", shown.stdout);
}

#[test]
fn a_file_name_with_control_characters_is_shown_escaped_by_jobs() {
    let wd = Workdir::new();
    wd.setup_directory();
    let name = "evil\u{1b}[2J.csv";
    let run = wd.assignments(name, &[&format!("{ALICE},{},assign", uk(1))], &[]);
    run.assert_code(0);
    assert!(!has_raw_control(&run.stderr), "{:?}", run.stderr);
    let jobs = wd.exec(&["jobs"]);
    assert!(jobs.stdout.contains("evil"), "{}", jobs.stdout);
    assert!(!has_raw_control(&jobs.stdout), "{:?}", jobs.stdout);
}

#[test]
fn a_file_name_with_control_characters_is_shown_escaped_by_run_and_job() {
    let wd = Workdir::new();
    wd.setup_directory();
    let name = "evil\u{1b}[2J.csv";
    let run = wd.assignments(name, &[&format!("{ALICE},{},assign", uk(1))], &[]);
    run.assert_code(0);
    assert!(run.stdout.contains("evil"), "{}", run.stdout);
    assert!(!has_raw_control(&run.stdout), "{:?}", run.stdout);
    let job = wd.exec(&["job", &run.job().id.to_string()]);
    job.assert_code(0);
    assert!(!has_raw_control(&job.stdout), "{:?}", job.stdout);
}
