//! The queue's guarantees (SPEC §7), each proven on the real binary:
//! exactly once after a crash at any batch, concurrent processes on one
//! database, and reports after `resume` as if nothing had happened.

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A temp folder with its own database, running the real binary.
struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("write file");
    }

    fn cmd(&self, db: &str, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("numbatch").expect("binary");
        cmd.current_dir(self.tmp.path())
            .env_remove("NUMBATCH_DB")
            .env_remove("NUMBATCH_TEST_ABORT_AFTER_BATCHES")
            .env_remove(ABORT_STORING)
            .arg("--db")
            .arg(db)
            .arg("--reports")
            .arg(format!("reports-{db}"))
            .arg("--quiet")
            .args(args);
        cmd
    }

    fn stdout(&self, db: &str, args: &[&str]) -> String {
        let out = self.cmd(db, args).output().expect("run numbatch");
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// Every report of a database, by file name (job ids included).
    fn reports(&self, db: &str) -> BTreeMap<String, String> {
        let dir = self.path(&format!("reports-{db}"));
        let mut out = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).expect("reports folder") {
            let entry = entry.expect("entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            out.insert(name, std::fs::read_to_string(entry.path()).expect("report"));
        }
        out
    }

    /// The history `show --json` gives of a user or number, without the
    /// times (which differ from one database to another).
    fn history(&self, db: &str, subject: &str) -> Vec<serde_json::Value> {
        let text = self.stdout(db, &["show", subject, "--json"]);
        let shown: serde_json::Value = serde_json::from_str(&text).expect("show --json");
        let mut events = shown["history"].as_array().expect("history").clone();
        for e in &mut events {
            e.as_object_mut().expect("event").remove("at");
        }
        events
    }

    /// The export and every report of `db` are those of the uninterrupted
    /// run.
    fn assert_as_uninterrupted(
        &self,
        db: &str,
        want_export: &str,
        want_reports: &BTreeMap<String, String>,
        case: usize,
    ) {
        assert_eq!(
            self.stdout(db, &["export", "assignments"]),
            want_export,
            "case {case}: export"
        );
        let got = self.reports(db);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want_reports.keys().collect::<Vec<_>>(),
            "case {case}"
        );
        for (name, text) in want_reports {
            assert_eq!(&got[name], text, "case {case}: report {name}");
        }
    }

    fn jobs(&self, db: &str) -> Vec<serde_json::Value> {
        let text = self.stdout(db, &["jobs", "--json"]);
        match serde_json::from_str(&text).expect("jobs --json") {
            serde_json::Value::Array(v) => v,
            other => panic!("not an array: {other}"),
        }
    }
}

const USERS: usize = 120;

/// A directory of users (on all plans) and `n` numbers, and an assignments
/// file that gives, moves, swaps and takes them, with some failing rows.
fn workload(dir: &Dir, n: usize) {
    let mut users = String::from("UserPrincipalName,DisplayName,Plan,VoiceEnabled\n");
    for u in 0..USERS {
        let plan = ["Connect", "Advanced", "Max"][u % 3];
        let voice = if u % 29 == 28 { "false" } else { "true" };
        users.push_str(&format!("user{u}@contoso.com,User {u},{plan},{voice}\n"));
    }
    dir.write("users.csv", &users);
    let mut numbers = String::from("PhoneNumber,NumberType\n");
    for i in 0..n {
        let t = if i % 97 == 5 { "service" } else { "subscriber" };
        numbers.push_str(&format!("{},{t}\n", number(i)));
    }
    dir.write("numbers.csv", &numbers);
    let mut rows = String::from("UserPrincipalName,PhoneNumber,Action\n");
    for i in 0..n {
        let u = (i * 7) % USERS;
        let upn = format!("user{u}@contoso.com");
        let line = match i % 11 {
            0 => format!("{upn},{},assign", number(i)),
            1..=3 => format!("{upn},{},add", number(i)),
            4 => format!("user{}@contoso.com,{},add", (u + 1) % USERS, number(i - 1)),
            5 => format!(",{},unassign", number(i - 2)),
            6 => format!("{upn},{},swap", number(i)),
            7 => format!("{upn},{},reassign", number(i - 3)),
            8 => format!("nobody{i}@contoso.com,{},add", number(i)),
            9 => format!("{upn},{},add", number(i + n)),
            _ => format!("{upn},{},", number(i)),
        };
        rows.push_str(&line);
        rows.push('\n');
    }
    dir.write("assignments.csv", &rows);
}

fn number(i: usize) -> String {
    format!("+4420{:08}", 71_000_000 + i)
}

fn setup(dir: &Dir, db: &str) {
    dir.cmd(db, &["run", "users.csv", "numbers.csv"])
        .assert()
        .success();
}

const RUN: &[&str] = &[
    "run",
    "assignments.csv",
    "--batch-size",
    "40",
    "--cooldown",
    "0",
];
const SUBMIT: [&str; 6] = [
    "submit",
    "assignments.csv",
    "--batch-size",
    "40",
    "--cooldown",
    "0",
];

/// The 1,200-row workload run once, uninterrupted (in `ref.db`): its
/// folder, and the export and reports every interrupted run must end with.
fn uninterrupted() -> (Dir, String, BTreeMap<String, String>) {
    let dir = Dir::new();
    workload(&dir, 1200);
    setup(&dir, "ref.db");
    dir.cmd("ref.db", RUN).assert().code(1);
    let export = dir.stdout("ref.db", &["export", "assignments"]);
    let reports = dir.reports("ref.db");
    (dir, export, reports)
}

#[test]
fn a_crash_at_any_batch_then_resume_gives_the_same_result() {
    let (dir, want_export, want_reports) = uninterrupted();
    assert!(
        want_export.lines().count() > 300,
        "the workload assigns numbers"
    );
    // The history of a few users and numbers: moved, swapped, taken.
    let subjects = [
        "user0@contoso.com",
        "user7@contoso.com",
        &number(0),
        &number(4),
        &number(6),
    ];
    let want_history: Vec<_> = subjects.iter().map(|s| dir.history("ref.db", s)).collect();
    assert!(
        want_history.iter().all(|h| h.len() >= 2),
        "each has a history: {want_history:?}"
    );

    // Kill after the first batch, in the middle, after the last (before the
    // reports are written), and several times in a row.
    setup(&dir, "probe.db");
    dir.cmd("probe.db", &SUBMIT).assert().success();
    let pending = dir.jobs("probe.db")[2]["pending"]
        .as_u64()
        .expect("pending");
    let batches = pending.div_ceil(40);
    assert!(batches > 20, "enough batches to kill in between: {batches}");
    for (case, kills) in [vec![1], vec![batches / 2], vec![batches], vec![2, 5, 9]]
        .into_iter()
        .enumerate()
    {
        let db = format!("crash{case}.db");
        setup(&dir, &db);
        dir.cmd(&db, &SUBMIT).assert().success();
        for k in &kills {
            let out = dir
                .cmd(&db, &["resume"])
                .env("NUMBATCH_TEST_ABORT_AFTER_BATCHES", k.to_string())
                .output()
                .expect("run");
            assert!(
                !out.status.success(),
                "case {case}: the process was killed after {k} batches"
            );
            let jobs = dir.jobs(&db);
            let last = jobs.last().expect("a job");
            assert_eq!(
                last["state"], "running",
                "case {case}: an interrupted job stays running"
            );
            assert!(
                dir.reports(&db).keys().all(|k| !k.starts_with("3-")),
                "no report before the end"
            );
            // The changes made so far are in the history already (the
            // first batch gave user0 its number 0).
            let so_far = dir.history(&db, &number(0));
            assert_eq!(
                so_far[..],
                want_history[2][..so_far.len()],
                "case {case}: history of a running job"
            );
            assert!(!so_far.is_empty(), "case {case}");
        }
        dir.cmd(&db, &["resume"]).assert().code(1);
        dir.assert_as_uninterrupted(&db, &want_export, &want_reports, case);
        let jobs = dir.jobs(&db);
        assert!(
            jobs.iter()
                .all(|j| j["state"] == "done" && j["pending"] == 0),
            "case {case}"
        );
        for (subject, want) in subjects.iter().zip(&want_history) {
            assert_eq!(
                &dir.history(&db, subject),
                want,
                "case {case}: history of {subject}"
            );
        }
    }
}

const ABORT_STORING: &str = "NUMBATCH_TEST_ABORT_AFTER_STORED_BATCHES";

/// Killed while `run` stores the file (before its job is queued): `resume`
/// stores it again from the file, as the same job, and the result is as if
/// nothing had happened; also when `resume` itself is killed storing it.
#[test]
fn a_kill_while_a_file_is_stored_then_resume_gives_the_same_result() {
    let (dir, want_export, want_reports) = uninterrupted();
    // 1200 rows in batches of 40: 30 stored batches.
    for (case, kills) in [vec![1], vec![15], vec![30], vec![4, 20]]
        .into_iter()
        .enumerate()
    {
        let db = format!("storing{case}.db");
        setup(&dir, &db);
        for (i, k) in kills.iter().enumerate() {
            let args: &[&str] = if i == 0 { RUN } else { &["resume"] };
            let out = dir
                .cmd(&db, args)
                .env(ABORT_STORING, k.to_string())
                .output()
                .expect("run");
            assert_eq!(out.status.code(), None, "case {case}: killed after {k}");
            // Not a job anyone can see or run yet, and no report.
            assert_eq!(dir.jobs(&db).len(), 2, "case {case}");
            assert!(dir.reports(&db).keys().all(|k| !k.starts_with("3-")));
        }
        if case == 3 {
            // From another folder (cron, say): the file was given by a
            // relative path, and is found all the same.
            std::fs::create_dir_all(dir.path("elsewhere")).expect("mkdir");
            Command::cargo_bin("numbatch")
                .expect("binary")
                .current_dir(dir.path("elsewhere"))
                .env_remove("NUMBATCH_DB")
                .arg("--db")
                .arg(dir.path(&db))
                .args(["--quiet", "resume"])
                .assert()
                .code(1);
        } else {
            dir.cmd(&db, &["resume"]).assert().code(1);
        }
        dir.assert_as_uninterrupted(&db, &want_export, &want_reports, case);
    }
    // The file changed before `resume`: the half-stored job is dropped,
    // saying why, and the file runs again as a new job.
    setup(&dir, "changed.db");
    let out = dir
        .cmd("changed.db", RUN)
        .env(ABORT_STORING, "3")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), None);
    let original = std::fs::read_to_string(dir.path("assignments.csv")).expect("read");
    dir.write(
        "assignments.csv",
        &format!("{original}user1@contoso.com,{},add\n", number(1)),
    );
    let out = dir.cmd("changed.db", &["resume"]).output().expect("resume");
    assert_eq!(
        out.status.code(),
        Some(2),
        "the file did not run, nor anything"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .contains("job 3 (assignments.csv) was interrupted while being stored and is dropped")
            && stderr.contains("changed"),
        "{stderr}"
    );
    assert_eq!(dir.jobs("changed.db").len(), 2);
    // Dropped while another job ran: as rows that did not apply (exit 1).
    let out = dir
        .cmd("changed.db", RUN)
        .env(ABORT_STORING, "3")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), None);
    dir.write(
        "other.csv",
        &format!(
            "{}\n,{},unassign\n",
            "UserPrincipalName,PhoneNumber,Action",
            number(1150)
        ),
    );
    dir.cmd("changed.db", &["submit", "other.csv"])
        .assert()
        .code(0);
    dir.write("assignments.csv", &original);
    let out = dir.cmd("changed.db", &["resume"]).output().expect("resume");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(dir.jobs("changed.db").len(), 3, "other.csv ran");
    dir.cmd("changed.db", RUN).assert().code(1);
    assert_eq!(dir.jobs("changed.db").len(), 4);
    // Run again with --force (its content was run before) and killed while
    // stored: that is no reason to drop it.
    let mut forced = RUN.to_vec();
    forced.push("--force");
    let out = dir
        .cmd("ref.db", &forced)
        .env(ABORT_STORING, "3")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), None);
    let out = dir.cmd("ref.db", &["resume"]).output().expect("resume");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let jobs = dir.jobs("ref.db");
    assert_eq!((jobs.len(), &jobs[3]["state"]), (4, &"done".into()));
}

/// A command of several files is stored all or none: killed before it had
/// stored all its files, `resume` drops what it had stored (the command
/// never got to check the rest); killed while storing the last, `resume`
/// stores them all again and runs them, as the command would have.
#[test]
fn a_command_of_several_files_killed_while_storing_resumes_all_or_none() {
    let (dir, want_export, want_reports) = uninterrupted();
    let all: Vec<&str> = [&["run", "users.csv", "numbers.csv"], &RUN[1..]].concat();
    // users: 3 stored batches of 40, numbers 30, assignments 30.
    let kill = |db: &str, after: u32| {
        let out = dir
            .cmd(db, &all)
            .env(ABORT_STORING, after.to_string())
            .output()
            .expect("run");
        assert_eq!(out.status.code(), None, "killed after {after}");
        assert!(dir.jobs(db).is_empty(), "nothing queued");
    };
    kill("early.db", 10);
    let out = dir.cmd("early.db", &["resume"]).output().expect("resume");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("job 1 (users.csv)")
            && stderr.contains("job 2 (numbers.csv)")
            && stderr.contains("before it had stored all its 3 files"),
        "{stderr}"
    );
    assert!(dir.jobs("early.db").is_empty());
    kill("late.db", 45);
    dir.cmd("late.db", &["resume"]).assert().code(1);
    dir.assert_as_uninterrupted("late.db", &want_export, &want_reports, 0);
    // One of its files run again on its own meanwhile: the group cannot be
    // stored again as the command was, and resume says so.
    kill("again.db", 45);
    dir.cmd("again.db", &["run", "users.csv"]).assert().code(0);
    let out = dir.cmd("again.db", &["resume"]).output().expect("resume");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("job 1 (users.csv) was interrupted while being stored and is dropped: its file was run again since, as job 4"),
        "{stderr}"
    );
    assert_eq!(dir.jobs("again.db").len(), 1);
}

/// The same file run twice at once: the second run finds the first still
/// storing it, and skips it (that one runs it), saying so.
#[test]
fn a_file_being_stored_by_a_live_process_is_not_stored_again() {
    let dir = Dir::new();
    workload(&dir, 50);
    setup(&dir, "live.db");
    // A job of this content being stored by a live process: this test's.
    let sha = numbatch::read::open(&dir.path("assignments.csv"), None, u64::MAX)
        .expect("read")
        .sha256;
    let conn = rusqlite::Connection::open(dir.path("live.db")).expect("open");
    conn.execute(
        "INSERT INTO jobs (file, stem, sha256, kind, state, dry_run, options, reports_dir, origin,
                           created_at, owner, heartbeat_at)
         VALUES ('assignments.csv', 'assignments', ?1, 'assignments', 'loading', 0,
                 '{\"batch_size\":40,\"region\":null,\"cooldown_ms\":0}', 'reports', 'file',
                 ?2, ?3, ?2)",
        rusqlite::params![sha, numbatch::store::now_ms(), numbatch::queue::owner::me()],
    )
    .expect("insert");
    drop(conn);
    let out = dir.cmd("live.db", RUN).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("skipped: the same content is being submitted as job 3"),
        "{stderr}"
    );
    assert_eq!(dir.jobs("live.db").len(), 2, "nothing new");
}

#[test]
fn a_dry_run_changes_nothing_and_predicts_the_real_run() {
    let dir = Dir::new();
    workload(&dir, 400);
    setup(&dir, "a.db");
    let before = dir.stdout("a.db", &["export", "assignments"]);
    let mut dry: Vec<&str> = RUN.to_vec();
    dry.push("--dry-run");
    dir.cmd("a.db", &dry).assert().code(1);
    assert_eq!(
        dir.stdout("a.db", &["export", "assignments"]),
        before,
        "dry run changed the directory"
    );
    // The real run (not skipped as a duplicate: a dry run does not count).
    dir.cmd("a.db", RUN).assert().code(1);
    let reports = dir.reports("a.db");
    let dry_ok = &reports["3-assignments.succeeded.csv"];
    let real_ok = &reports["4-assignments.succeeded.csv"];
    assert_eq!(dry_ok.replace("would-apply", "applied"), *real_ok);
    assert_eq!(
        reports["3-assignments.failed.csv"],
        reports["4-assignments.failed.csv"]
    );
}

/// The directory's invariants, read from its exports.
fn check_directory(dir: &Dir, db: &str) {
    let plans: BTreeMap<String, usize> = dir
        .stdout(db, &["export", "users"])
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let cap = match cells[2] {
                "Connect" => 5,
                "Advanced" => 10,
                _ => 20,
            };
            (cells[0].to_string(), cap)
        })
        .collect();
    let mut held: BTreeMap<String, usize> = BTreeMap::new();
    let mut primaries: BTreeMap<String, usize> = BTreeMap::new();
    let mut numbers = std::collections::BTreeSet::new();
    for l in dir.stdout(db, &["export", "assignments"]).lines().skip(1) {
        let cells: Vec<&str> = l.split(',').collect();
        assert!(
            numbers.insert(cells[1].to_string()),
            "{} held twice",
            cells[1]
        );
        *held.entry(cells[0].to_string()).or_default() += 1;
        if cells[2] == "assign" {
            *primaries.entry(cells[0].to_string()).or_default() += 1;
        }
    }
    for (upn, n) in &held {
        assert!(*n <= plans[upn], "{upn} holds {n}, over the plan");
    }
    assert!(
        primaries.values().all(|n| *n == 1),
        "a user with two primaries"
    );
}

/// Every row of every job in exactly one report, and no row applied twice.
fn check_reports(dir: &Dir, db: &str) {
    let reports = dir.reports(db);
    for job in dir.jobs(db) {
        assert_eq!(job["state"], "done");
        let id = job["id"].as_i64().expect("id");
        let stem = Path::new(job["file"].as_str().expect("file"))
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let mut rows = Vec::new();
        for kind in ["succeeded", "failed"] {
            let text = &reports[&format!("{id}-{stem}.{kind}.csv")];
            let mut r = csv::Reader::from_reader(text.as_bytes());
            let headers = r.headers().expect("header").clone();
            let at = headers.iter().position(|h| h == "Row").expect("Row column");
            for rec in r.records() {
                rows.push(rec.expect("record")[at].parse::<u64>().expect("row number"));
            }
        }
        let total = rows.len() as u64;
        rows.sort_unstable();
        rows.dedup();
        assert_eq!(rows.len() as u64, total, "job {id}: a row in two reports");
        assert_eq!(
            total,
            job["rows"].as_u64().expect("rows"),
            "job {id}: rows missing"
        );
        assert_eq!(
            job["applied"].as_u64().unwrap_or(0)
                + job["unchanged"].as_u64().unwrap_or(0)
                + job["failed"].as_u64().unwrap_or(0),
            total
        );
    }
}

/// The optimised pipeline (validation in groups of `validate::TOGETHER`
/// batches on another thread, transactions of many batches, a Bloom filter
/// in front of DUPLICATE_IN_FILE) gives the reports, export and history of
/// one row at a time. 5,000 rows: in batches of 50 that is four validation
/// groups, in batches of 1 a hundred and fifty-seven.
#[test]
fn many_groups_give_the_reports_of_one_row_at_a_time() {
    let dir = Dir::new();
    workload(&dir, 5000);
    let subjects = ["user0@contoso.com", "user7@contoso.com", &number(4)];
    let mut results = Vec::new();
    for batch in ["1", "50", "500"] {
        let db = format!("batch{batch}.db");
        setup(&dir, &db);
        dir.cmd(
            &db,
            &[
                "run",
                "assignments.csv",
                "--batch-size",
                batch,
                "--cooldown",
                "0",
            ],
        )
        .assert()
        .code(1);
        check_reports(&dir, &db);
        let history: Vec<_> = subjects.iter().map(|s| dir.history(&db, s)).collect();
        results.push((
            dir.stdout(&db, &["export", "assignments"]),
            dir.reports(&db),
            history,
        ));
    }
    let codes = &results[0].1["3-assignments.failed.csv"];
    for code in ["DUPLICATE_IN_FILE", "USER_NOT_FOUND", "PLAN_LIMIT"] {
        assert!(codes.contains(code), "the file makes {code} failures");
    }
    assert!(results[0].0.lines().count() > 100, "numbers are held");
    let (one, others) = results.split_first().expect("three runs");
    for (other, batch) in others.iter().zip(["50", "500"]) {
        assert_eq!(other.0, one.0, "export: batches of {batch} against 1");
        assert_eq!(
            other.1.keys().collect::<Vec<_>>(),
            one.1.keys().collect::<Vec<_>>()
        );
        for (name, text) in &one.1 {
            assert_eq!(&other.1[name], text, "{name}: batches of {batch} against 1");
        }
        assert_eq!(other.2, one.2, "history: batches of {batch} against 1");
    }
}

#[test]
fn four_processes_on_one_database() {
    let dir = Dir::new();
    workload(&dir, 800);
    setup(&dir, "c.db");
    // Two halves of the file and the whole file, twice: overlapping work.
    let text = std::fs::read_to_string(dir.path("assignments.csv")).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    let half = lines.len() / 2;
    dir.write("first.csv", &(lines[..half].join("\n") + "\n"));
    dir.write(
        "second.csv",
        &(lines[0].to_string() + "\n" + &lines[half..].join("\n") + "\n"),
    );
    let files = [
        "first.csv",
        "second.csv",
        "assignments.csv",
        "assignments.csv",
    ];
    let children: Vec<_> = files
        .iter()
        .map(|f| {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("numbatch"));
            cmd.current_dir(dir.path(""))
                .args([
                    "--db",
                    "c.db",
                    "--reports",
                    "reports-c.db",
                    "--quiet",
                    "run",
                    f,
                    "--force",
                ])
                .args(["--batch-size", "25", "--cooldown", "0"])
                .stdout(std::process::Stdio::null());
            cmd.spawn().expect("spawn")
        })
        .collect();
    for mut child in children {
        let status = child.wait().expect("wait");
        assert!(
            matches!(status.code(), Some(0 | 1)),
            "a process failed: {status}"
        );
    }
    check_directory(&dir, "c.db");
    check_reports(&dir, "c.db");
    assert_eq!(dir.jobs("c.db").len(), 6);
}

#[test]
fn two_resumes_at_once_apply_each_row_once() {
    let dir = Dir::new();
    workload(&dir, 1000);
    setup(&dir, "r.db");
    dir.cmd(
        "r.db",
        &[
            "submit",
            "assignments.csv",
            "--batch-size",
            "10",
            "--cooldown",
            "0",
        ],
    )
    .assert()
    .success()
    .stdout("3\n");
    let children: Vec<_> = (0..2)
        .map(|_| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("numbatch"))
                .current_dir(dir.path(""))
                .args([
                    "--db",
                    "r.db",
                    "--reports",
                    "reports-r.db",
                    "--quiet",
                    "resume",
                ])
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut child in children {
        let status = child.wait().expect("wait");
        assert!(matches!(status.code(), Some(0 | 1)), "{status}");
    }
    // Whoever lost the race saw the job busy; make sure it is finished.
    dir.cmd("r.db", &["resume"])
        .assert()
        .code(predicates::ord::lt(2));
    check_reports(&dir, "r.db");
    check_directory(&dir, "r.db");
    // The same file in one go on a fresh database gives the same directory.
    setup(&dir, "s.db");
    dir.cmd("s.db", &["run", "assignments.csv", "--cooldown", "0"])
        .assert()
        .code(1);
    assert_eq!(
        dir.stdout("r.db", &["export", "assignments"]),
        dir.stdout("s.db", &["export", "assignments"])
    );
}
