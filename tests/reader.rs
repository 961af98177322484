//! The input quirks of SPEC §2 that the reader takes in its stride, header
//! recognition, and the files it rejects as a whole.

mod util;

use util::*;

/// Runs `bytes` as `name` after the standard directory; returns the run.
fn run_bytes(wd: &Workdir, name: &str, bytes: &[u8], extra: &[&str]) -> Run {
    wd.create_bytes(name, bytes);
    wd.run_files(&[name], extra)
}

// ---- encodings, line ends, delimiters ------------------------------------------

#[test]
fn utf8_byte_order_mark() {
    let wd = Workdir::new();
    wd.setup_directory();
    let text = format!("\u{FEFF}{ASSIGNMENTS_HEADER}\n{ALICE},{},assign\n", uk(1));
    let run = run_bytes(&wd, "bom.csv", text.as_bytes(), &[]);
    run.assert_code(0);
    assert_eq!(wd.outcomes(run.job()), vec![(2, "applied".into())]);
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
    // The report's first header is clean.
    let (header, _) = wd.report_table(run.job(), "succeeded");
    assert_eq!(header[0], "UserPrincipalName");
}

#[test]
fn crlf_line_ends() {
    let wd = Workdir::new();
    wd.setup_directory();
    let text = format!(
        "{USERS_HEADER}\r\nzed@contoso.com,Zed Zimmer,Max,true,upsert\r\n\r\nyan@contoso.com,Yan,Gold,,\r\n"
    );
    let run = run_bytes(&wd, "crlf.csv", text.as_bytes(), &[]);
    run.assert_code(1);
    let job = run.job();
    assert_eq!(wd.outcomes(job), vec![(2, "applied".into())]);
    assert_eq!(wd.codes(job), vec![(4, "INVALID_VALUE".into())]);
    let users = wd.users_now();
    assert_eq!(users["zed@contoso.com"]["DisplayName"], "Zed Zimmer");
    // No carriage return left in the last cell.
    assert_eq!(users["zed@contoso.com"]["VoiceEnabled"], "true");
    assert_eq!(wd.succeeded_row(job, 2)["Action"], "upsert");
}

#[test]
fn semicolon_delimiter() {
    let wd = Workdir::new();
    wd.setup_directory();
    let text = "UserPrincipalName;DisplayName;Plan;VoiceEnabled;Action\n\
                henrietta@contoso.com;Mueller, Henrietta;Advanced;yes;upsert\n";
    let run = run_bytes(&wd, "semi.csv", text.as_bytes(), &[]);
    run.assert_code(0);
    let users = wd.users_now();
    assert_eq!(
        users["henrietta@contoso.com"]["DisplayName"],
        "Mueller, Henrietta"
    );
    assert_eq!(users["henrietta@contoso.com"]["Plan"], "Advanced");
}

#[test]
fn tab_delimiter() {
    let wd = Workdir::new();
    wd.setup_directory();
    let text = format!(
        "UserPrincipalName\tPhoneNumber\tAction\n{ALICE}\t{}\tassign\n{BOB}\t+44 20 7946 0002\tadd\n",
        uk(1)
    );
    let run = run_bytes(&wd, "tab.csv", text.as_bytes(), &[]);
    run.assert_code(0);
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
    assert_eq!(wd.held_by(BOB), (None, vec![uk(2)]));
}

#[test]
fn excel_european_export_bom_crlf_semicolons() {
    let wd = Workdir::new();
    wd.setup_directory();
    let text = format!(
        "\u{FEFF}UserPrincipalName;PhoneNumber;Action\r\n{ALICE};{};assign\r\n",
        uk(1)
    );
    let run = run_bytes(&wd, "excel.csv", text.as_bytes(), &[]);
    run.assert_code(0);
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
}

#[test]
fn windows_1252_file() {
    let wd = Workdir::new();
    let mut bytes = b"UserPrincipalName,DisplayName,Plan,VoiceEnabled,Action\n".to_vec();
    // "José Müller" and "Seán O’Brien" as Windows-1252 bytes.
    bytes.extend_from_slice(b"jose@contoso.com,Jos\xe9 M\xfcller,Connect,true,upsert\n");
    bytes.extend_from_slice(b"sean@contoso.ie,Se\xe1n O\x92Brien,,,\n");
    let run = run_bytes(&wd, "cp1252.csv", &bytes, &[]);
    run.assert_code(0);
    let users = wd.users_now();
    assert_eq!(users["jose@contoso.com"]["DisplayName"], "José Müller");
    assert_eq!(
        users["sean@contoso.ie"]["DisplayName"],
        "Seán O\u{2019}Brien"
    );
    assert_eq!(wd.succeeded_row(run.job(), 2)["DisplayName"], "José Müller");
    // The export is UTF-8 and shows the names right.
    assert!(wd.export("users").contains("José Müller"));
}

#[test]
fn utf8_non_ascii_is_kept() {
    let wd = Workdir::new();
    let run = wd.users(
        "u.csv",
        &[
            "chloe@contoso.fr,Chloé Moreau,,,",
            "hugo@contoso.fr,Hugo Lefèvre,,,",
        ],
        &[],
    );
    run.assert_code(0);
    let users = wd.users_now();
    assert_eq!(users["chloe@contoso.fr"]["DisplayName"], "Chloé Moreau");
    assert_eq!(users["hugo@contoso.fr"]["DisplayName"], "Hugo Lefèvre");
}

// ---- blank lines and Row numbers ---------------------------------------------------

#[test]
fn blank_lines_are_skipped_and_counted_in_row_numbers() {
    let wd = Workdir::new();
    wd.setup_directory();
    let text = format!(
        "{ASSIGNMENTS_HEADER}\n{ALICE},{},assign\n\n,,\n   \n{BOB},{NOT_IN_INVENTORY},assign\n , , \n{CAROL},{},assign\n\n",
        uk(1),
        uk(3)
    );
    let run = run_bytes(&wd, "blank.csv", text.as_bytes(), &[]);
    run.assert_code(1);
    let job = run.job();
    // Header 1, Alice 2, three blank lines 3-5, Bob 6, blank 7, Carol 8.
    assert_eq!(
        wd.outcomes(job),
        vec![(2, "applied".into()), (8, "applied".into())]
    );
    assert_eq!(wd.codes(job), vec![(6, "NUMBER_NOT_FOUND".into())]);
    // Blank lines are not rows of the job.
    assert_eq!(wd.job_json(job.id)["rows"], 3);
}

#[test]
fn a_quoted_cell_over_several_lines_is_one_row() {
    let wd = Workdir::new();
    let text =
        format!("{USERS_HEADER}\nzed@contoso.com,\"Zed\nZimmer\",,,\nyan@contoso.com,Yan,Gold,,\n");
    let run = run_bytes(&wd, "multi.csv", text.as_bytes(), &[]);
    run.assert_code(1);
    let job = run.job();
    assert_eq!(wd.outcomes(job), vec![(2, "applied".into())]);
    assert_eq!(wd.codes(job), vec![(3, "INVALID_VALUE".into())]);
}

// ---- cells --------------------------------------------------------------------------

#[test]
fn spaces_around_cells() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "spaces.csv",
        &[
            &format!("  {ALICE}  ,  {}  ,  assign  ", uk(1)),
            &format!("\t{BOB}\t, {} ,add", uk(2)),
        ],
        &[],
    );
    run.assert_code(0);
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
    assert_eq!(wd.held_by(BOB), (None, vec![uk(2)]));
    let rec = wd.succeeded_row(run.job(), 2);
    assert_eq!(rec["UserPrincipalName"], ALICE);
    assert_eq!(rec["PhoneNumber"], uk(1));
    assert_eq!(rec["Action"], "assign");
}

#[test]
fn spaces_around_users_and_numbers_cells() {
    let wd = Workdir::new();
    let run = wd.users(
        "u.csv",
        &[" zed@contoso.com , Zed Zimmer , max , yes , upsert "],
        &[],
    );
    run.assert_code(0);
    let users = wd.users_now();
    assert_eq!(users["zed@contoso.com"]["DisplayName"], "Zed Zimmer");
    assert_eq!(users["zed@contoso.com"]["Plan"], "Max");
    let run = wd.numbers("n.csv", &[" +442079460050 , service , add "], &[]);
    run.assert_code(0);
    assert_eq!(wd.numbers_now()["+442079460050"], "service");
}

#[test]
fn leading_apostrophe_text_marker() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "quote.csv",
        &[
            &format!("'{ALICE},'{},'assign", uk(1)),
            &format!("{BOB},'+44 20 7946 0002,add"),
        ],
        &[],
    );
    run.assert_code(0);
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
    assert_eq!(wd.held_by(BOB), (None, vec![uk(2)]));
    assert_eq!(wd.succeeded_row(run.job(), 3)["PhoneNumber"], uk(2));
}

#[test]
fn tel_prefix() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "tel.csv",
        &[
            &format!("{ALICE},tel:{},assign", uk(1)),
            &format!("{BOB},tel:+44-20-7946-0002,assign"),
        ],
        &[],
    );
    run.assert_code(0);
    assert_eq!(wd.succeeded_row(run.job(), 2)["PhoneNumber"], uk(1));
    assert_eq!(wd.succeeded_row(run.job(), 3)["PhoneNumber"], uk(2));
    assert_eq!(wd.held_by(BOB), (Some(uk(2)), vec![]));
}

#[test]
fn punctuation_inside_plus_numbers() {
    let wd = Workdir::new();
    wd.setup_directory();
    let written = [
        "+44 20 7946 0001",
        "+44.20.7946.0002",
        "+44-20-7946-0003",
        "+44 (20) 7946 0004",
        "+44 20 7946-0005",
        "+1 (212) 555-0101",
        "+1.212.555.0102",
    ];
    let want = [uk(1), uk(2), uk(3), uk(4), uk(5), us(1), us(2)];
    let rows: Vec<String> = written
        .iter()
        .map(|n| format!("{DAVE},\"{n}\",add"))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let run = wd.assignments("punct.csv", &rows, &[]);
    let failed = wd.failed(run.job());
    assert!(failed.is_empty(), "{failed:?}");
    run.assert_code(0);
    for (i, n) in want.iter().enumerate() {
        assert_eq!(&wd.succeeded_row(run.job(), i as u64 + 2)["PhoneNumber"], n);
    }
    let (_, mut additional) = wd.held_by(DAVE);
    additional.sort();
    let mut want = want.to_vec();
    want.sort();
    assert_eq!(additional, want);
}

#[test]
fn national_number_with_region() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "gb.csv",
        &[
            &format!("{ALICE},020 7946 0001,assign"),
            &format!("{BOB},02079460002,assign"),
            &format!("{CAROL},{},assign", uk(3)),
        ],
        &["--region", "GB"],
    );
    run.assert_code(0);
    assert_eq!(wd.succeeded_row(run.job(), 2)["PhoneNumber"], uk(1));
    assert_eq!(wd.succeeded_row(run.job(), 3)["PhoneNumber"], uk(2));
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
    // The country code in any case.
    let run = wd.assignments(
        "us.csv",
        &[&format!("{DAVE},(212) 555-0101,assign")],
        &["--region", "us"],
    );
    run.assert_code(0);
    assert_eq!(wd.held_by(DAVE), (Some(us(1)), vec![]));
}

#[test]
fn national_number_without_region_is_not_e164() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments("gb.csv", &[&format!("{ALICE},020 7946 0001,assign")], &[]);
    run.assert_code(1);
    assert_eq!(wd.codes(run.job()), vec![(2, "NOT_E164".into())]);
}

#[test]
fn missing_plus_is_not_e164_with_the_plus_suggestion() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments("plus.csv", &[&format!("{ALICE},442079460001,assign")], &[]);
    run.assert_code(1);
    let rec = wd.failed_row(run.job(), 2);
    assert_eq!(rec["ErrorCode"], "NOT_E164");
    assert!(rec["Error"].contains("+442079460001"), "{rec:?}");
    // The failed report keeps the cell as written.
    assert_eq!(rec["PhoneNumber"], "442079460001");
}

#[test]
fn bare_invalid_digits_are_not_e164_without_a_bad_suggestion() {
    let wd = Workdir::new();
    wd.setup_directory();
    // Adding `+` to 12345 does not make a valid number: nothing to suggest.
    let run = wd.assignments("plus.csv", &[&format!("{ALICE},12345,assign")], &[]);
    run.assert_code(1);
    let rec = wd.failed_row(run.job(), 2);
    assert_eq!(rec["ErrorCode"], "NOT_E164");
    assert!(!rec["Error"].contains("+12345"), "{rec:?}");
}

#[test]
fn scientific_notation_is_spreadsheet_mangled() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.assignments(
        "sci.csv",
        &[
            &format!("{ALICE},4.42079460011E+11,add"),
            &format!("{BOB},4.42079460011e+11,add"),
            &format!("{CAROL},1.21255501E+10,add"),
        ],
        &["--region", "GB"],
    );
    run.assert_code(1);
    let codes = wd.codes(run.job());
    assert_eq!(codes.len(), 3, "{codes:?}");
    assert!(
        codes.iter().all(|(_, c)| c == "SPREADSHEET_MANGLED"),
        "{codes:?}"
    );
    // As a European Excel writes it: a decimal comma, `;` between cells.
    let run = wd.run_csv(
        "sci-eu.csv",
        &format!("UserPrincipalName;PhoneNumber;Action\n{ALICE};4,42079460011E+11;add\n"),
        &[],
    );
    run.assert_code(1);
    assert_eq!(wd.codes(run.job()), vec![(2, "SPREADSHEET_MANGLED".into())]);
    assert_eq!(
        wd.failed_row(run.job(), 2)["PhoneNumber"],
        "4,42079460011E+11"
    );
}

#[test]
fn values_match_case_insensitively() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.users("u.csv", &["zed@contoso.com,Zed,mAX,YES,UPSERT"], &[]);
    run.assert_code(0);
    assert_eq!(wd.users_now()["zed@contoso.com"]["Plan"], "Max");
    let run = wd.numbers("n.csv", &["+442079460050,SERVICE,ADD"], &[]);
    run.assert_code(0);
    assert_eq!(wd.numbers_now()["+442079460050"], "service");
    let run = wd.assignments(
        "a.csv",
        &[&format!("ALICE@CONTOSO.COM,{},AsSiGn", uk(1))],
        &[],
    );
    run.assert_code(0);
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
}

// ---- the header ---------------------------------------------------------------------

#[test]
fn header_aliases_for_upn_and_number() {
    let wd = Workdir::new();
    wd.setup_directory();
    let headers = [
        "UPN,Number,Action",
        "User,DDI,Action",
        "Email,DID,Action",
        "userprincipalname,TelephoneNumber,action",
    ];
    for (i, h) in headers.iter().enumerate() {
        let upn = [ALICE, BOB, CAROL, DAVE][i];
        let run = wd.run_csv(
            &format!("alias{i}.csv"),
            &format!("{h}\n{upn},{},assign\n", uk(i as u32 + 1)),
            &[],
        );
        run.assert_code(0);
        assert_eq!(
            wd.held_by(upn),
            (Some(uk(i as u32 + 1)), vec![]),
            "header {h}"
        );
    }
}

#[test]
fn header_case_spaces_underscores_and_dashes() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.run_csv(
        "a.csv",
        &format!(
            " user principal name ,PHONE_NUMBER,Telephone-Number-Not\n{ALICE},{},x\n",
            uk(1)
        ),
        &[],
    );
    // `Telephone-Number-Not` is no known column: the file is rejected.
    run.assert_code(2);
    let run = wd.run_csv(
        "b.csv",
        &format!(
            " user principal name ,PHONE_NUMBER, ACTION \n{ALICE},{},assign\n",
            uk(1)
        ),
        &[],
    );
    run.assert_code(0);
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
    let run = wd.run_csv(
        "u.csv",
        "E-mail,Display Name,plan,voice_enabled\nzed@contoso.com,Zed Zimmer,Max,no\n",
        &[],
    );
    // `E-mail` normalises to `email`, an alias of UserPrincipalName.
    run.assert_code(0);
    let users = wd.users_now();
    assert_eq!(users["zed@contoso.com"]["DisplayName"], "Zed Zimmer");
    assert_eq!(users["zed@contoso.com"]["VoiceEnabled"], "false");
    let run = wd.run_csv(
        "n.csv",
        "Phone Number,Number_Type\n+442079460050,service\n",
        &[],
    );
    run.assert_code(0);
    assert_eq!(wd.numbers_now()["+442079460050"], "service");
}

#[test]
fn columns_in_any_order_and_optional_columns_left_out() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.run_csv(
        "a.csv",
        &format!(
            "Action,PhoneNumber,UserPrincipalName\nadd,{},{ALICE}\n",
            uk(1)
        ),
        &[],
    );
    run.assert_code(0);
    assert_eq!(wd.held_by(ALICE), (None, vec![uk(1)]));
    // No Action column: every row is the first action.
    let run = wd.run_csv(
        "b.csv",
        &format!("PhoneNumber,UserPrincipalName\n{},{BOB}\n", uk(2)),
        &[],
    );
    run.assert_code(0);
    assert_eq!(wd.held_by(BOB), (Some(uk(2)), vec![]));
}

#[test]
fn trailing_empty_columns_as_spreadsheets_save_them_are_ignored() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.run_csv(
        "excel.csv",
        &format!(
            "UserPrincipalName,PhoneNumber,Action,,\n{ALICE},{},assign,,\n",
            uk(1)
        ),
        &[],
    );
    run.assert_code(0);
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
    let (header, _) = wd.report_table(run.job(), "succeeded");
    assert_eq!(
        header,
        [
            "UserPrincipalName",
            "PhoneNumber",
            "Action",
            "Row",
            "Outcome",
            "Detail"
        ]
    );
}

#[test]
fn unknown_column_rejects_the_file_with_a_suggestion() {
    let wd = Workdir::new();
    wd.setup_directory();
    let run = wd.run_csv(
        "typo.csv",
        &format!(
            "UserPrincipalName,PhoneNmber,Action\n{ALICE},{},assign\n",
            uk(1)
        ),
        &[],
    );
    run.assert_code(2);
    assert!(run.stderr.contains("PhoneNmber"), "{}", run.stderr);
    assert!(run.stderr.contains("PhoneNumber"), "{}", run.stderr);
    assert!(run.stderr.contains("typo.csv"), "{}", run.stderr);
    assert!(run.jobs.is_empty());
    assert_eq!(wd.jobs().len(), 2, "only the setup jobs");
    assert!(wd.holdings().is_empty());
    assert!(!wd.exists("reports/3-typo.failed.csv"));
}

#[test]
fn unknown_column_far_from_any_name_is_named() {
    let wd = Workdir::new();
    let run = wd.run_csv(
        "colour.csv",
        "UPN,Number,Colour\nalice@contoso.com,+442079460001,red\n",
        &[],
    );
    run.assert_code(2);
    assert!(run.stderr.contains("Colour"), "{}", run.stderr);
    assert!(wd.jobs().is_empty());
}

#[test]
fn missing_required_column_rejects_the_file() {
    let wd = Workdir::new();
    let run = wd.run_csv("nokey.csv", "DisplayName,Plan\nZed,Max\n", &[]);
    run.assert_code(2);
    assert!(run.stderr.contains("UserPrincipalName"), "{}", run.stderr);
    assert!(wd.jobs().is_empty());
}

#[test]
fn report_columns_are_ignored() {
    let wd = Workdir::new();
    wd.setup_directory();
    let text = format!(
        "Row,UserPrincipalName,PhoneNumber,Action,ErrorCode,Error,Outcome,Detail\n\
         7,{ALICE},{},assign,USER_NOT_FOUND,\"whatever, it was\",applied,=1+1\n",
        uk(1)
    );
    let run = wd.run_csv("handback.csv", &text, &[]);
    run.assert_code(0);
    assert_eq!(wd.held_by(ALICE), (Some(uk(1)), vec![]));
    // The report has the template's columns only, and the row's own number.
    let (header, _) = wd.report_table(run.job(), "succeeded");
    assert_eq!(
        header,
        [
            "UserPrincipalName",
            "PhoneNumber",
            "Action",
            "Row",
            "Outcome",
            "Detail"
        ]
    );
    assert_eq!(wd.outcomes(run.job()), vec![(2, "applied".into())]);
}

#[test]
fn kind_forced_with_kind_option() {
    let wd = Workdir::new();
    // A header with only the UPN is a users file; forcing another kind
    // whose required column is missing rejects it.
    wd.create("only-upn.csv", "UserPrincipalName\nzed@contoso.com\n");
    let run = wd.numbatch(&["run", "only-upn.csv", "--kind", "assignments"]);
    run.assert_code(2);
    assert!(run.stderr.contains("PhoneNumber"), "{}", run.stderr);
    let run = wd.numbatch(&["run", "only-upn.csv", "--kind", "users"]);
    run.assert_code(0);
    assert!(wd.users_now().contains_key("zed@contoso.com"));
}

#[test]
fn control_characters_in_a_header_are_shown_escaped() {
    let wd = Workdir::new();
    let run = run_bytes(
        &wd,
        "evil.csv",
        b"UPN,Number,\x1b[2J\x1b[31mEvil\x07\nalice@contoso.com,+442079460001,x\n",
        &[],
    );
    run.assert_code(2);
    assert!(!has_raw_control(&run.stderr), "{:?}", run.stderr);
    assert!(!has_raw_control(&run.stdout), "{:?}", run.stdout);
    assert!(run.stderr.contains("Evil"), "{}", run.stderr);
}

#[test]
fn not_a_csv_file_is_rejected() {
    let wd = Workdir::new();
    let run = run_bytes(
        &wd,
        "photo.csv",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        &[],
    );
    run.assert_code(2);
    assert!(run.stderr.contains("photo.csv"), "{}", run.stderr);
    assert!(!has_raw_control(&run.stderr), "{:?}", run.stderr);
    let run = run_bytes(&wd, "empty.csv", b"", &[]);
    run.assert_code(2);
    assert!(run.stderr.contains("empty.csv"), "{}", run.stderr);
    assert!(wd.jobs().is_empty());
}
