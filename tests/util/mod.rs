//! The `Workdir` helper of the integration tests: a temporary folder with
//! its own database, in which the real `numbatch` binary is run on real
//! files (the way xsv and ripgrep test themselves).
//!
//! Every test crate includes this module with `mod util;` and uses only part
//! of it, hence the `dead_code` allowance.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// One row of a report or an export: cell by header name.
pub type Rec = HashMap<String, String>;

/// The standard directory of `setup_directory`, for the tests to name.
pub const ALICE: &str = "alice@contoso.com"; // Connect, voice-enabled
pub const BOB: &str = "bob@contoso.com"; // Connect, voice-enabled
pub const CAROL: &str = "carol@contoso.com"; // Advanced, voice-enabled
pub const DAVE: &str = "dave@contoso.com"; // Max, voice-enabled
pub const ERIN: &str = "erin@contoso.com"; // Connect, NOT voice-enabled

/// UK service number (reception) in the standard directory.
pub const UK_SERVICE: &str = "+442079460000";
/// US service number in the standard directory.
pub const US_SERVICE: &str = "+12125550100";
/// A valid number that is not in the standard inventory.
pub const NOT_IN_INVENTORY: &str = "+12125550199";

/// `+44 20 7946 00nn`: subscriber numbers 1 to 12 are in the standard inventory.
pub fn uk(n: u32) -> String {
    assert!(n < 100);
    format!("+4420794600{n:02}")
}

/// `+1 212 555 01nn`: subscriber numbers 1 to 10 are in the standard inventory.
pub fn us(n: u32) -> String {
    assert!(n < 100);
    format!("+121255501{n:02}")
}

pub const ASSIGNMENTS_HEADER: &str = "UserPrincipalName,PhoneNumber,Action";
pub const USERS_HEADER: &str = "UserPrincipalName,DisplayName,Plan,VoiceEnabled,Action";
pub const NUMBERS_HEADER: &str = "PhoneNumber,NumberType,Action";

/// A job as the tests refer to it: its id and the stem of its reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRef {
    pub id: i64,
    pub stem: String,
}

/// What one invocation of numbatch did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The jobs this invocation created, oldest first.
    pub jobs: Vec<JobRef>,
}

impl Run {
    /// The one job this run created.
    pub fn job(&self) -> &JobRef {
        assert_eq!(
            self.jobs.len(),
            1,
            "expected exactly one new job; exit {}\nstdout:\n{}\nstderr:\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        &self.jobs[0]
    }

    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Default for Workdir {
    fn default() -> Self {
        Self::new()
    }
}

impl Workdir {
    /// A fresh temporary folder. It is made in memory (`/dev/shm`) where
    /// there is one: numbatch syncs its database to disk at every commit,
    /// and on a disk those syncs would be most of the suite's time. Set
    /// `NUMBATCH_TEST_TMPDIR` to choose another place.
    pub fn new() -> Workdir {
        let mut builder = tempfile::Builder::new();
        builder.prefix("numbatch-test-");
        let dir = match test_tmpdir() {
            Some(base) => builder.tempdir_in(base),
            None => builder.tempdir(),
        };
        Workdir {
            dir: dir.expect("temp dir"),
        }
    }

    /// The temporary folder: numbatch runs here.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn db(&self) -> PathBuf {
        self.path("numbatch.db")
    }

    /// Writes a text file (UTF-8, as given).
    pub fn create(&self, name: &str, contents: &str) {
        self.create_bytes(name, contents.as_bytes());
    }

    /// Writes a file byte for byte (odd encodings, BOMs, control bytes).
    pub fn create_bytes(&self, name: &str, contents: &[u8]) {
        let path = self.path(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create dir");
        }
        std::fs::write(&path, contents).expect("write file");
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name))
            .unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    /// `numbatch --db <tmp>/numbatch.db ARGS...`, run in the temp folder.
    pub fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_numbatch"));
        cmd.current_dir(self.root())
            .env_remove("NUMBATCH_DB")
            .env_remove("NUMBATCH_TEST_ABORT_AFTER_BATCHES")
            .arg("--db")
            .arg(self.db())
            .args(args);
        cmd
    }

    /// Runs numbatch and collects its exit code and output (no job lookup).
    pub fn exec(&self, args: &[&str]) -> Run {
        let out = self.cmd(args).output().expect("run numbatch");
        Run {
            code: out.status.code().expect("exit code, not a signal"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            jobs: Vec::new(),
        }
    }

    /// Runs numbatch and notes the jobs it created (from `jobs --json`).
    pub fn numbatch(&self, args: &[&str]) -> Run {
        let before: Vec<i64> = if self.db().exists() {
            self.jobs()
                .iter()
                .map(|j| j["id"].as_i64().unwrap())
                .collect()
        } else {
            Vec::new()
        };
        let mut run = self.exec(args);
        if self.db().exists() {
            run.jobs = self
                .jobs()
                .iter()
                .filter(|j| !before.contains(&j["id"].as_i64().unwrap()))
                .map(job_ref)
                .collect();
        }
        run
    }

    /// `numbatch run FILES... EXTRA...`
    pub fn run_files(&self, files: &[&str], extra: &[&str]) -> Run {
        let mut args = vec!["run"];
        args.extend_from_slice(files);
        args.extend_from_slice(extra);
        self.numbatch(&args)
    }

    /// Writes `name` and runs it: `numbatch run NAME EXTRA...`.
    pub fn run_csv(&self, name: &str, contents: &str, extra: &[&str]) -> Run {
        self.create(name, contents);
        self.run_files(&[name], extra)
    }

    /// Writes an assignments file from its rows (header added) and runs it.
    pub fn assignments(&self, name: &str, rows: &[&str], extra: &[&str]) -> Run {
        self.run_csv(name, &csv_text(ASSIGNMENTS_HEADER, rows), extra)
    }

    /// Writes a users file from its rows (header added) and runs it.
    pub fn users(&self, name: &str, rows: &[&str], extra: &[&str]) -> Run {
        self.run_csv(name, &csv_text(USERS_HEADER, rows), extra)
    }

    /// Writes a numbers file from its rows (header added) and runs it.
    pub fn numbers(&self, name: &str, rows: &[&str], extra: &[&str]) -> Run {
        self.run_csv(name, &csv_text(NUMBERS_HEADER, rows), extra)
    }

    /// Loads the standard directory: five users (alice and bob on Connect,
    /// carol on Advanced, dave on Max, erin on Connect and not
    /// voice-enabled), subscriber numbers `uk(1..=12)` and `us(1..=10)`,
    /// and the service numbers `UK_SERVICE` and `US_SERVICE`. Nobody holds
    /// a number yet. Creates jobs 1 and 2 (`std-users.csv`,
    /// `std-numbers.csv`) and their reports.
    ///
    /// The directory is built by running numbatch once per test process;
    /// later calls copy that folder's files (database, inputs, reports) in,
    /// which is the same state and saves two runs per test. A folder that
    /// already has a database gets the two runs for real.
    pub fn setup_directory(&self) {
        if self.db().exists()
            || std::fs::read_dir(self.root()).is_ok_and(|mut d| d.next().is_some())
        {
            self.build_standard_directory();
            return;
        }
        for (rel, bytes) in standard_files() {
            self.create_bytes(rel, bytes);
        }
    }

    /// `setup_directory`, the long way: two runs of numbatch.
    pub fn build_standard_directory(&self) {
        self.users(
            "std-users.csv",
            &[
                "alice@contoso.com,Alice Archer,Connect,true,upsert",
                "bob@contoso.com,Bob Baker,Connect,true,upsert",
                "carol@contoso.com,Carol Clark,Advanced,true,upsert",
                "dave@contoso.com,Dave Davis,Max,true,upsert",
                "erin@contoso.com,Erin Evans,Connect,false,upsert",
            ],
            &[],
        )
        .assert_code(0);
        let mut rows = vec![
            format!("{UK_SERVICE},service,add"),
            format!("{US_SERVICE},service,add"),
        ];
        rows.extend((1..=12).map(|n| format!("{},subscriber,add", uk(n))));
        rows.extend((1..=10).map(|n| format!("{},subscriber,add", us(n))));
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        self.numbers("std-numbers.csv", &rows, &[]).assert_code(0);
    }

    /// Gives numbers with `--cooldown 0`, asserting that every row applies.
    /// (The file's header is spelled `UPN,Number,Action`, so that a test's
    /// own file with the same rows is not skipped as already submitted.)
    pub fn give(&self, rows: &[&str]) {
        let name = format!("give-{}.csv", self.jobs().len() + 1);
        self.run_csv(
            &name,
            &csv_text("UPN,Number,Action", rows),
            &["--cooldown", "0"],
        )
        .assert_code(0);
    }

    // ---- reports --------------------------------------------------------

    pub fn report_name(job: &JobRef, which: &str) -> String {
        format!("reports/{}-{}.{which}.csv", job.id, job.stem)
    }

    /// The raw text of a report (`which` is `succeeded` or `failed`).
    pub fn report_text(&self, job: &JobRef, which: &str) -> String {
        self.read(&Self::report_name(job, which))
    }

    /// A report's header and records, parsed as CSV.
    pub fn report_table(&self, job: &JobRef, which: &str) -> (Vec<String>, Vec<Vec<String>>) {
        parse_csv(&self.report_text(job, which))
    }

    /// A report's rows, each a map from header to cell.
    pub fn report(&self, job: &JobRef, which: &str) -> Vec<Rec> {
        let (header, rows) = self.report_table(job, which);
        to_recs(&header, rows)
    }

    pub fn succeeded(&self, job: &JobRef) -> Vec<Rec> {
        self.report(job, "succeeded")
    }

    pub fn failed(&self, job: &JobRef) -> Vec<Rec> {
        self.report(job, "failed")
    }

    /// `(Row, ErrorCode)` of every failed row, in report order.
    pub fn codes(&self, job: &JobRef) -> Vec<(u64, String)> {
        self.failed(job)
            .iter()
            .map(|r| (row_of(r), r["ErrorCode"].clone()))
            .collect()
    }

    /// `(Row, Outcome)` of every succeeded row, in report order.
    pub fn outcomes(&self, job: &JobRef) -> Vec<(u64, String)> {
        self.succeeded(job)
            .iter()
            .map(|r| (row_of(r), r["Outcome"].clone()))
            .collect()
    }

    /// The failed record of spreadsheet row `row`.
    pub fn failed_row(&self, job: &JobRef, row: u64) -> Rec {
        let recs = self.failed(job);
        recs.into_iter()
            .find(|r| row_of(r) == row)
            .unwrap_or_else(|| {
                panic!(
                    "row {row} is not in the failed report:\n{}",
                    self.report_text(job, "failed")
                )
            })
    }

    /// The succeeded record of spreadsheet row `row`.
    pub fn succeeded_row(&self, job: &JobRef, row: u64) -> Rec {
        let recs = self.succeeded(job);
        recs.into_iter()
            .find(|r| row_of(r) == row)
            .unwrap_or_else(|| {
                panic!(
                    "row {row} is not in the succeeded report:\n{}\nfailed:\n{}",
                    self.report_text(job, "succeeded"),
                    self.report_text(job, "failed")
                )
            })
    }

    // ---- the directory --------------------------------------------------

    /// `numbatch export KIND` to standard output, as text.
    pub fn export(&self, kind: &str) -> String {
        let run = self.exec(&["export", kind]);
        run.assert_code(0);
        run.stdout
    }

    pub fn export_recs(&self, kind: &str) -> Vec<Rec> {
        let (header, rows) = parse_csv(&self.export(kind));
        to_recs(&header, rows)
    }

    /// Who holds what: number → (UPN, `assign` for primary / `add` for additional).
    pub fn holdings(&self) -> BTreeMap<String, (String, String)> {
        self.export_recs("assignments")
            .into_iter()
            .map(|r| {
                (
                    r["PhoneNumber"].clone(),
                    (r["UserPrincipalName"].clone(), r["Action"].clone()),
                )
            })
            .collect()
    }

    /// The numbers `upn` holds: (primary, sorted additionals).
    pub fn held_by(&self, upn: &str) -> (Option<String>, Vec<String>) {
        let mut primary = None;
        let mut additional = Vec::new();
        for (number, (holder, action)) in self.holdings() {
            if holder == upn {
                if action == "assign" {
                    assert!(primary.is_none(), "{upn} has two primaries");
                    primary = Some(number);
                } else {
                    additional.push(number);
                }
            }
        }
        (primary, additional)
    }

    /// The present users: UPN → export record.
    pub fn users_now(&self) -> BTreeMap<String, Rec> {
        self.export_recs("users")
            .into_iter()
            .map(|r| (r["UserPrincipalName"].clone(), r))
            .collect()
    }

    /// The inventory (not released): number → NumberType.
    pub fn numbers_now(&self) -> BTreeMap<String, String> {
        self.export_recs("numbers")
            .into_iter()
            .map(|r| (r["PhoneNumber"].clone(), r["NumberType"].clone()))
            .collect()
    }

    /// `numbatch jobs --json`, parsed.
    pub fn jobs(&self) -> Vec<serde_json::Value> {
        let run = self.exec(&["jobs", "--json"]);
        run.assert_code(0);
        let v: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("jobs --json is not JSON ({e}):\n{}", run.stdout));
        v.as_array()
            .unwrap_or_else(|| panic!("jobs --json is not an array:\n{}", run.stdout))
            .clone()
    }

    /// One job's object from `jobs --json`.
    pub fn job_json(&self, id: i64) -> serde_json::Value {
        self.jobs()
            .into_iter()
            .find(|j| j["id"].as_i64() == Some(id))
            .unwrap_or_else(|| panic!("job {id} is not in jobs --json"))
    }
}

/// The files of a folder where `build_standard_directory` ran, by relative
/// path: built once per test process.
fn standard_files() -> &'static [(String, Vec<u8>)] {
    static FILES: std::sync::OnceLock<Vec<(String, Vec<u8>)>> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        let wd = Workdir::new();
        wd.build_standard_directory();
        let mut files = Vec::new();
        collect_files(wd.root(), wd.root(), &mut files);
        assert!(
            files.iter().any(|(rel, _)| rel == "numbatch.db"),
            "{files:?}"
        );
        files
    })
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            collect_files(root, &path, out);
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push((rel, std::fs::read(&path).expect("read file")));
        }
    }
}

/// Where the temporary folders go: `NUMBATCH_TEST_TMPDIR`, else `/dev/shm`
/// when it is a writable folder, else the system's temporary folder.
fn test_tmpdir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("NUMBATCH_TEST_TMPDIR") {
        return Some(PathBuf::from(dir));
    }
    let shm = Path::new("/dev/shm");
    let writable = shm.is_dir()
        && std::fs::metadata(shm).is_ok_and(|m| !m.permissions().readonly())
        && tempfile::tempdir_in(shm).is_ok();
    writable.then(|| shm.to_path_buf())
}

fn job_ref(j: &serde_json::Value) -> JobRef {
    JobRef {
        id: j["id"].as_i64().expect("job id"),
        // The report stem: the file's, or `<file>-retry` / `<file>-undo`.
        stem: j["stem"].as_str().expect("job stem").to_string(),
    }
}

/// A CSV text: the header, then the rows, each line ended by `\n`.
pub fn csv_text(header: &str, rows: &[&str]) -> String {
    let mut s = String::from(header);
    s.push('\n');
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

/// Parses a CSV text (as numbatch writes it) into header and records.
pub fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .unwrap_or_else(|e| panic!("bad CSV header ({e}):\n{text}"))
        .iter()
        .map(str::to_string)
        .collect();
    let rows = rdr
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("bad CSV record ({e}):\n{text}"))
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    (header, rows)
}

fn to_recs(header: &[String], rows: Vec<Vec<String>>) -> Vec<Rec> {
    rows.into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect()
}

/// Writes records as a CSV text (for handing a report back in).
pub fn write_csv(header: &[String], rows: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// The `Row` cell of a report record, as a number.
pub fn row_of(r: &Rec) -> u64 {
    r.get("Row")
        .unwrap_or_else(|| panic!("no Row column in {r:?}"))
        .parse()
        .unwrap_or_else(|_| panic!("Row is not a number in {r:?}"))
}

/// True when `s` holds a raw control character (other than the line ends
/// a CSV or a terminal line legitimately has).
pub fn has_raw_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n' && c != '\r')
}
