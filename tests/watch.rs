//! `numbatch watch DIR`: the drop folder (SPEC §4 "Drop folder"), tested
//! with the real binary on real temp folders. Watchers that must run in the
//! background are spawned and stopped with signals; nothing here asserts on
//! timing: every wait polls with a generous upper bound.

#![cfg(unix)]

mod util;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};
use util::*;

/// The drop folder of every test, inside the test's temp folder.
const DROP: &str = "drop";
/// The test hook that aborts the process after its Nth committed batch.
const ABORT_AFTER: &str = "NUMBATCH_TEST_ABORT_AFTER_BATCHES";
/// Upper bound of every wait: never reached unless something is wrong.
const BOUND: Duration = Duration::from_secs(60);
const SUBFOLDERS: [&str; 6] = [
    "inbox",
    "processing",
    "done",
    "rejected",
    "reports",
    "templates",
];

// ---- helpers ------------------------------------------------------------------------

/// Polls `cond` until it holds; fails the test after `BOUND`.
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < BOUND, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

/// `drop/<sub>` of the test's temp folder.
fn sub(wd: &Workdir, sub: &str) -> PathBuf {
    wd.path(DROP).join(sub)
}

/// The names in `drop/<sub>`, sorted (empty when the folder does not exist).
fn names(wd: &Workdir, folder: &str) -> Vec<String> {
    let Ok(entries) = fs::read_dir(sub(wd, folder)) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

fn csv_names(wd: &Workdir, folder: &str) -> Vec<String> {
    names(wd, folder)
        .into_iter()
        .filter(|n| n.ends_with(".csv"))
        .collect()
}

fn read_in(wd: &Workdir, folder: &str, name: &str) -> String {
    let path = sub(wd, folder).join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Writes a file into the inbox the way a copy that finishes at once does:
/// written next door, then renamed in.
fn drop_file(wd: &Workdir, name: &str, contents: &str) {
    let staging = wd.path("staging");
    fs::create_dir_all(&staging).unwrap();
    fs::create_dir_all(sub(wd, "inbox")).unwrap();
    let tmp = staging.join(name);
    fs::write(&tmp, contents).unwrap();
    fs::rename(&tmp, sub(wd, "inbox").join(name)).unwrap();
}

/// `numbatch watch drop --once`, taking files at once.
const ONCE: [&str; 7] = [
    "watch",
    DROP,
    "--once",
    "--settle",
    "0",
    "--interval",
    "0.05",
];

/// `numbatch watch drop --once --settle 0 ...EXTRA`, run to its end.
fn once(wd: &Workdir, extra: &[&str]) -> Run {
    let mut args = ONCE.to_vec();
    args.extend_from_slice(extra);
    wd.exec(&args)
}

/// A users file of the users `u{first:03}@contoso.com` to `u{last:03}@...`.
fn users_csv(first: u32, last: u32) -> String {
    let rows: Vec<String> = (first..=last)
        .map(|i| format!("u{i:03}@contoso.com,User {i},Connect,true,upsert"))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    csv_text(USERS_HEADER, &rows)
}

/// A subscriber number of its own for every `i` (all valid, +44 20 7946 0nnn).
fn number(i: u32) -> String {
    assert!(i < 1000);
    format!("+44207946{i:04}")
}

/// Loads users u001..=u{n} and their numbers with `run` (jobs 1 and 2).
fn setup_bulk_directory(wd: &Workdir, n: u32) {
    wd.run_csv("bulk-users.csv", &users_csv(1, n), &["--quiet"])
        .assert_code(0);
    let rows: Vec<String> = (1..=n)
        .map(|i| format!("{},subscriber,add", number(i)))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    wd.numbers("bulk-numbers.csv", &rows, &["--quiet"])
        .assert_code(0);
}

/// An assignments file of `n` rows (after `setup_bulk_directory(n)`): most
/// apply, every 20th repeats the row above (`unchanged`) and every 25th names
/// a user who does not exist (`USER_NOT_FOUND`), so both reports have rows.
fn bulk_assignments(n: u32) -> String {
    let mut rows = Vec::new();
    for i in 1..=n {
        if i % 25 == 0 {
            rows.push(format!("ghost{i}@contoso.com,{},assign", number(i)));
        } else if i % 20 == 0 {
            let prev = rows.last().cloned().unwrap();
            rows.push(prev);
        } else {
            rows.push(format!("u{i:03}@contoso.com,{},assign", number(i)));
        }
    }
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    csv_text(ASSIGNMENTS_HEADER, &rows)
}

/// The id of the newest job in the database.
fn last_job_id(wd: &Workdir) -> i64 {
    wd.jobs()
        .iter()
        .map(|j| j["id"].as_i64().unwrap())
        .max()
        .expect("no job at all")
}

/// A report of the drop folder, parsed: `drop/reports/<id>-<stem>.<which>.csv`.
fn drop_report(wd: &Workdir, id: i64, stem: &str, which: &str) -> (Vec<String>, Vec<Rec>) {
    let text = read_in(wd, "reports", &format!("{id}-{stem}.{which}.csv"));
    let (header, rows) = parse_csv(&text);
    let recs = rows
        .into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect();
    (header, recs)
}

/// Asserts that rows 2..=rows+1 each appear exactly once across the two
/// reports of a job.
fn assert_every_row_once(wd: &Workdir, id: i64, stem: &str, rows: u64) {
    let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
    for which in ["succeeded", "failed"] {
        for rec in drop_report(wd, id, stem, which).1 {
            *seen.entry(row_of(&rec)).or_default() += 1;
        }
    }
    let expected: BTreeMap<u64, usize> = (2..rows + 2).map(|r| (r, 1)).collect();
    assert_eq!(seen, expected, "every row must be reported exactly once");
}

/// Lines of a watcher's log that mention `needle`.
fn lines_with<'a>(log: &'a str, needle: &str) -> Vec<&'a str> {
    log.lines().filter(|l| l.contains(needle)).collect()
}

static LOGS: AtomicUsize = AtomicUsize::new(0);

/// A watcher running in the background, its standard error going to a file.
/// Dropping it kills it if it is still running (a failed test leaves no
/// process behind).
struct Watcher {
    child: Child,
    log: PathBuf,
    status: Option<ExitStatus>,
}

impl Watcher {
    /// `numbatch --db <tmp>/numbatch.db ARGS...` in the temp folder, with `env`.
    fn spawn(wd: &Workdir, args: &[&str], env: &[(&str, &str)]) -> Watcher {
        let log = wd.path(&format!(
            "watcher-{}.log",
            LOGS.fetch_add(1, Ordering::SeqCst)
        ));
        let err = fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_numbatch"))
            .current_dir(wd.root())
            .env_remove("NUMBATCH_DB")
            .env_remove(ABORT_AFTER)
            .env_remove("NUMBATCH_TEST_ABORT_AFTER_STORED_BATCHES")
            .envs(env.iter().copied())
            .arg("--db")
            .arg(wd.db())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("spawn numbatch");
        Watcher {
            child,
            log,
            status: None,
        }
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends a signal (`TERM`, `INT`) with `kill`.
    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// Waits for the process to end (bounded).
    fn wait(&mut self) -> ExitStatus {
        if let Some(s) = self.status {
            return s;
        }
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                self.status = Some(s);
                return s;
            }
            assert!(
                start.elapsed() < BOUND,
                "the watcher did not exit; its log:\n{}",
                self.log()
            );
            sleep_ms(50);
        }
    }

    /// Waits for it to end and asserts exit 0.
    fn assert_exit_0(&mut self) {
        let status = self.wait();
        assert_eq!(
            status.code(),
            Some(0),
            "expected exit 0, got {status:?}; log:\n{}",
            self.log()
        );
    }

    fn running(&mut self) -> bool {
        self.status.is_none() && self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A watcher on `drop` that stays up: `watch drop --settle S --interval 0.05 EXTRA...`.
fn spawn_watch(wd: &Workdir, settle: &str, extra: &[&str]) -> Watcher {
    let mut args = vec!["watch", DROP, "--settle", settle, "--interval", "0.05"];
    args.extend_from_slice(extra);
    Watcher::spawn(wd, &args, &[])
}

/// Waits until a watcher has set up the folders (the templates are the last).
fn wait_set_up(wd: &Workdir, w: &Watcher) {
    wait_until("the watcher to set up the drop folder", || {
        w.log().contains("watching")
            && ["assignments", "users", "numbers"]
                .iter()
                .all(|k| sub(wd, "templates").join(format!("{k}.csv")).exists())
    });
}

// ---- set-up -------------------------------------------------------------------------

#[test]
fn creates_the_folders_and_the_three_templates() {
    let wd = Workdir::new();
    once(&wd, &[]).assert_code(0);
    for folder in SUBFOLDERS {
        assert!(sub(&wd, folder).is_dir(), "{folder} was not created");
    }
    assert_eq!(
        names(&wd, "templates"),
        vec!["assignments.csv", "numbers.csv", "users.csv"]
    );
    for kind in ["assignments", "users", "numbers"] {
        let blank = wd.exec(&["template", kind]);
        blank.assert_code(0);
        assert_eq!(
            read_in(&wd, "templates", &format!("{kind}.csv")),
            blank.stdout,
            "templates/{kind}.csv is not the blank template"
        );
    }
    // Running it again on the set-up folder is fine.
    once(&wd, &[]).assert_code(0);
}

#[test]
fn a_folder_that_cannot_be_created_is_a_clear_error_exit_2() {
    let wd = Workdir::new();
    // As root a read-only folder is still writable: make the parent a file.
    wd.create("not-a-folder", "just a file\n");
    let run = wd.exec(&["watch", "not-a-folder/drop", "--once"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("not-a-folder/drop"),
        "the message should name the folder:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.starts_with("numbatch:") && !run.stderr.contains("panicked"),
        "expected a one-line error, got:\n{}",
        run.stderr
    );
    assert!(wd.path("not-a-folder").is_file());
}

// ---- a good file, a bad file --------------------------------------------------------

#[test]
fn a_good_file_goes_to_done_with_its_reports_in_drop_reports() {
    let wd = Workdir::new();
    wd.setup_directory();
    let contents = csv_text(
        ASSIGNMENTS_HEADER,
        &[
            &format!("{ALICE},{},assign", uk(1)),
            &format!("Bob@Contoso.com,{},assign", uk(2)),
            &format!("{ERIN},{},assign", uk(3)),
        ],
    );
    drop_file(&wd, "team.csv", &contents);
    let run = once(&wd, &[]);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}:\n{}",
        run.code,
        run.stderr
    );

    assert_eq!(names(&wd, "inbox"), Vec::<String>::new());
    assert_eq!(names(&wd, "processing"), Vec::<String>::new());
    assert_eq!(names(&wd, "rejected"), Vec::<String>::new());
    assert_eq!(names(&wd, "done"), vec!["team.csv"]);
    assert_eq!(
        read_in(&wd, "done", "team.csv"),
        contents,
        "done file changed"
    );

    let id = last_job_id(&wd);
    assert_eq!(id, 3, "one new job after the two of the set-up");
    let job = wd.job_json(id);
    assert_eq!(job["state"], "done");
    assert_eq!(job["applied"], 2);
    assert_eq!(job["failed"], 1);

    // Reports go to DIR/reports, not to the default ./reports.
    let mut reports = names(&wd, "reports");
    reports.sort();
    assert_eq!(
        reports,
        vec!["3-team.failed.csv", "3-team.succeeded.csv"],
        "reports of the job in drop/reports"
    );
    assert!(!wd.exists("reports/3-team.succeeded.csv"));
    assert!(!wd.exists("reports/3-team.failed.csv"));

    let (header, ok) = drop_report(&wd, id, "team", "succeeded");
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
    let ok: Vec<(u64, String, String)> = ok
        .iter()
        .map(|r| {
            (
                row_of(r),
                r["UserPrincipalName"].clone(),
                r["Outcome"].clone(),
            )
        })
        .collect();
    assert_eq!(
        ok,
        vec![
            (2, ALICE.to_string(), "applied".to_string()),
            (3, BOB.to_string(), "applied".to_string()),
        ]
    );
    let (_, failed) = drop_report(&wd, id, "team", "failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(row_of(&failed[0]), 4);
    assert_eq!(failed[0]["ErrorCode"], "USER_NOT_VOICE_ENABLED");
    assert_eq!(wd.held_by(ALICE).0, Some(uk(1)));

    // One line per event, on standard error.
    assert_eq!(
        lines_with(&run.stderr, "taken team.csv").len(),
        1,
        "{}",
        run.stderr
    );
    let done = lines_with(&run.stderr, "done team.csv");
    assert_eq!(done.len(), 1, "{}", run.stderr);
    assert!(
        done[0].contains("2 applied")
            && done[0].contains("0 unchanged")
            && done[0].contains("1 failed"),
        "the done line should give the counts: {}",
        done[0]
    );
}

#[test]
fn an_upper_case_csv_extension_is_taken() {
    let wd = Workdir::new();
    drop_file(&wd, "STAFF.CSV", &users_csv(1, 2));
    once(&wd, &[]).assert_code(0);
    assert_eq!(names(&wd, "done"), vec!["STAFF.CSV"]);
    assert_eq!(wd.users_now().len(), 2);
}

#[test]
fn a_bad_header_is_rejected_with_an_error_txt_saying_why() {
    let wd = Workdir::new();
    let contents = "UserPrincipalName,PhoneNumber,Colour\nalice@contoso.com,+442079460001,red\n";
    // What the CLI says about the same file.
    wd.create("bad.csv", contents);
    let cli = wd.exec(&["run", "bad.csv"]);
    cli.assert_code(2);
    let cli_msg = cli
        .stderr
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("numbatch: bad.csv: "))
        .unwrap_or_else(|| panic!("unexpected CLI message:\n{}", cli.stderr))
        .to_string();
    assert!(cli_msg.contains("Colour"), "{cli_msg}");

    drop_file(&wd, "bad.csv", contents);
    let run = once(&wd, &[]);
    assert_ne!(run.code, 3, "{}", run.stderr);

    assert_eq!(names(&wd, "inbox"), Vec::<String>::new());
    assert_eq!(names(&wd, "processing"), Vec::<String>::new());
    assert_eq!(names(&wd, "done"), Vec::<String>::new());
    assert_eq!(names(&wd, "rejected"), vec!["bad.csv", "bad.error.txt"]);
    assert_eq!(read_in(&wd, "rejected", "bad.csv"), contents);
    let why = read_in(&wd, "rejected", "bad.error.txt");
    assert!(
        why.contains(&cli_msg),
        "bad.error.txt should give the CLI's message {cli_msg:?}; it says:\n{why}"
    );
    assert!(wd.jobs().is_empty(), "a rejected file makes no job");

    let rejected = lines_with(&run.stderr, "rejected bad.csv");
    assert_eq!(rejected.len(), 1, "{}", run.stderr);
    assert!(
        rejected[0].contains("Colour"),
        "the log line should give the reason: {}",
        rejected[0]
    );
}

// ---- what is left alone -------------------------------------------------------------

/// Drops `ok.csv` (so the watcher visibly ran) next to `others`, each a
/// valid users file unless the contents are given; after `watch --once`,
/// every one of `others` must be in the inbox untouched and no job made of it.
fn assert_left_alone(wd: &Workdir, others: &[(&str, &str)]) {
    let inbox = sub(wd, "inbox");
    fs::create_dir_all(&inbox).unwrap();
    for (name, contents) in others {
        fs::write(inbox.join(name), contents).unwrap();
    }
    drop_file(wd, "ok.csv", &users_csv(1, 1));
    let run = once(wd, &[]);
    run.assert_code(0);
    assert_eq!(names(wd, "done"), vec!["ok.csv"], "{}", run.stderr);
    assert_eq!(names(wd, "processing"), Vec::<String>::new());
    assert_eq!(names(wd, "rejected"), Vec::<String>::new());
    for (name, contents) in others {
        assert_eq!(
            fs::read_to_string(inbox.join(name)).ok().as_deref(),
            Some(*contents),
            "{name} should be left in the inbox as it was"
        );
        for event in ["taken", "done", "rejected"] {
            assert!(
                lines_with(&run.stderr, &format!("{event} {name}")).is_empty(),
                "{name} should not be {event}:\n{}",
                run.stderr
            );
        }
    }
    assert_eq!(wd.jobs().len(), 1, "only ok.csv makes a job");
}

#[test]
fn a_hidden_file_is_left_alone() {
    let wd = Workdir::new();
    let users = users_csv(2, 3);
    assert_left_alone(&wd, &[(".hidden.csv", &users), (".csv", &users)]);
}

#[test]
fn a_spreadsheet_lock_file_is_left_alone() {
    let wd = Workdir::new();
    let users = users_csv(2, 3);
    // Excel's owner file (binary in real life) and one that happens to parse.
    assert_left_alone(
        &wd,
        &[
            ("~$team.csv", "\u{7}Alice Admin     \u{0}\u{0}\u{0}"),
            ("~$users.csv", &users),
        ],
    );
}

#[test]
fn temp_files_are_left_alone() {
    let wd = Workdir::new();
    let users = users_csv(2, 3);
    assert_left_alone(
        &wd,
        &[
            ("team.csv.tmp", &users),
            ("team.csv.part", &users),
            ("team.csv.crdownload", &users),
            ("team.csv~", &users),
            ("~team.csv", &users),
            (".~lock.team.csv#", &users),
            (".team.csv.swp", &users),
            ("team.tmp", &users),
            ("notes.txt", &users),
        ],
    );
}

#[test]
fn a_symlink_in_the_inbox_is_left_alone() {
    let wd = Workdir::new();
    let users = users_csv(2, 3);
    wd.create("elsewhere/real.csv", &users);
    let inbox = sub(&wd, "inbox");
    fs::create_dir_all(&inbox).unwrap();
    std::os::unix::fs::symlink(wd.path("elsewhere/real.csv"), inbox.join("link.csv")).unwrap();
    std::os::unix::fs::symlink(wd.path("elsewhere/nowhere.csv"), inbox.join("dangling.csv"))
        .unwrap();
    drop_file(&wd, "ok.csv", &users_csv(1, 1));

    let run = once(&wd, &[]);
    run.assert_code(0);
    assert_eq!(names(&wd, "done"), vec!["ok.csv"], "{}", run.stderr);
    assert_eq!(names(&wd, "inbox"), vec!["dangling.csv", "link.csv"]);
    for link in ["link.csv", "dangling.csv"] {
        let meta = fs::symlink_metadata(inbox.join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} is still the link");
    }
    assert_eq!(
        wd.read("elsewhere/real.csv"),
        users,
        "the target is untouched"
    );
    assert_eq!(names(&wd, "processing"), Vec::<String>::new());
    assert_eq!(names(&wd, "rejected"), Vec::<String>::new());
    assert_eq!(wd.jobs().len(), 1, "only ok.csv makes a job");
}

#[test]
fn a_directory_named_like_a_csv_file_is_left_alone() {
    let wd = Workdir::new();
    let inbox = sub(&wd, "inbox");
    fs::create_dir_all(inbox.join("x.csv")).unwrap();
    fs::write(inbox.join("x.csv").join("inner.csv"), users_csv(2, 3)).unwrap();
    drop_file(&wd, "ok.csv", &users_csv(1, 1));

    let run = once(&wd, &[]);
    run.assert_code(0);
    assert_eq!(names(&wd, "done"), vec!["ok.csv"], "{}", run.stderr);
    assert_eq!(names(&wd, "inbox"), vec!["x.csv"]);
    assert!(inbox.join("x.csv").is_dir());
    assert!(inbox.join("x.csv").join("inner.csv").is_file());
    assert_eq!(names(&wd, "processing"), Vec::<String>::new());
    assert_eq!(names(&wd, "rejected"), Vec::<String>::new());
    assert_eq!(wd.jobs().len(), 1, "only ok.csv makes a job");
}

#[test]
fn a_fifo_named_like_a_csv_file_is_left_alone() {
    let wd = Workdir::new();
    let inbox = sub(&wd, "inbox");
    fs::create_dir_all(&inbox).unwrap();
    let made = Command::new("mkfifo")
        .arg(inbox.join("pipe.csv"))
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        eprintln!("mkfifo is not available: skipped");
        return;
    }
    drop_file(&wd, "ok.csv", &users_csv(1, 1));
    // A watcher that opened the FIFO would hang: run it bounded.
    let mut w = Watcher::spawn(&wd, &ONCE, &[]);
    w.assert_exit_0();
    assert_eq!(names(&wd, "done"), vec!["ok.csv"], "{}", w.log());
    assert_eq!(names(&wd, "inbox"), vec!["pipe.csv"]);
    assert!(!fs::metadata(inbox.join("pipe.csv")).unwrap().is_file());
    assert_eq!(names(&wd, "rejected"), Vec::<String>::new());
}

// ---- settling -----------------------------------------------------------------------

/// Writes a file into the inbox in pieces while a watcher (`--settle 1`)
/// runs, checking after each piece that it is still in the inbox; then waits
/// for it to be done and checks that the job had every row. With
/// `clock_behind`, every write leaves the file's modification time that far
/// in the past, as a file server whose clock is behind the watcher's would.
fn write_slowly_while_watching(clock_behind: Option<Duration>) {
    let wd = Workdir::new();
    let contents = users_csv(1, 40);
    let bytes = contents.as_bytes();
    // Pieces cut anywhere, mid-line included.
    let pieces: Vec<&[u8]> = bytes.chunks(bytes.len().div_ceil(16)).collect();
    assert!(pieces.len() >= 15);

    let inbox = sub(&wd, "inbox");
    fs::create_dir_all(&inbox).unwrap();
    let path = inbox.join("slow.csv");
    let pin = |f: &fs::File| {
        if let Some(behind) = clock_behind {
            f.set_modified(SystemTime::now() - behind).unwrap();
        }
    };
    let f = fs::File::create(&path).unwrap();
    (&f).write_all(pieces[0]).unwrap();
    pin(&f);
    drop(f);

    let mut w = spawn_watch(&wd, "1", &[]);
    wait_set_up(&wd, &w);
    let start = Instant::now();
    for piece in &pieces[1..] {
        sleep_ms(150);
        let Ok(mut f) = fs::OpenOptions::new().append(true).open(&path) else {
            panic!("slow.csv was taken while still growing; log:\n{}", w.log());
        };
        f.write_all(piece).unwrap();
        pin(&f);
        drop(f);
        assert!(
            path.is_file(),
            "slow.csv was taken while still growing; log:\n{}",
            w.log()
        );
        assert_eq!(names(&wd, "processing"), Vec::<String>::new());
        assert_eq!(names(&wd, "done"), Vec::<String>::new());
        assert_eq!(names(&wd, "rejected"), Vec::<String>::new());
    }
    assert!(
        start.elapsed() > Duration::from_secs(1),
        "the file grew for longer than the settle time"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), contents);

    wait_until("slow.csv to be done", || names(&wd, "done") == ["slow.csv"]);
    assert_eq!(read_in(&wd, "done", "slow.csv"), contents);
    wait_until("the reports", || {
        names(&wd, "reports").len() == 2 && w.log().contains("done slow.csv")
    });
    w.signal("TERM");
    w.assert_exit_0();

    let id = last_job_id(&wd);
    assert_eq!(wd.jobs().len(), 1, "one job");
    let (_, ok) = drop_report(&wd, id, "slow", "succeeded");
    assert_eq!(ok.len(), 40, "every row of the whole file");
    let (_, failed) = drop_report(&wd, id, "slow", "failed");
    assert!(failed.is_empty(), "no row failed: {failed:?}");
    assert_every_row_once(&wd, id, "slow", 40);
    assert_eq!(wd.users_now().len(), 40);
}

#[test]
fn a_file_written_slowly_is_taken_only_once_complete() {
    write_slowly_while_watching(None);
}

#[test]
fn a_growing_file_with_an_old_modification_time_is_not_taken() {
    write_slowly_while_watching(Some(Duration::from_secs(30)));
}

// ---- duplicates and name clashes ----------------------------------------------------

#[test]
fn a_duplicate_file_goes_to_done_with_a_note_naming_the_earlier_job() {
    let wd = Workdir::new();
    let contents = users_csv(1, 3);
    drop_file(&wd, "first.csv", &contents);
    once(&wd, &[]).assert_code(0);
    let id = last_job_id(&wd);

    drop_file(&wd, "again.csv", &contents);
    let run = once(&wd, &[]);
    run.assert_code(0);
    assert_eq!(wd.jobs().len(), 1, "the duplicate makes no job");
    assert_eq!(names(&wd, "inbox"), Vec::<String>::new());
    assert_eq!(names(&wd, "processing"), Vec::<String>::new());
    assert_eq!(names(&wd, "rejected"), Vec::<String>::new());
    assert_eq!(csv_names(&wd, "done"), vec!["again.csv", "first.csv"]);
    assert_eq!(read_in(&wd, "done", "again.csv"), contents);

    let notes: Vec<String> = names(&wd, "done")
        .into_iter()
        .filter(|n| n.starts_with("again") && !n.ends_with(".csv"))
        .collect();
    assert_eq!(notes.len(), 1, "one note beside again.csv: {notes:?}");
    let note = read_in(&wd, "done", &notes[0]);
    assert!(
        note.contains(&format!("job {id}")),
        "the note should name job {id}:\n{note}"
    );
    let logged = lines_with(&run.stderr, "again.csv");
    assert!(
        logged.iter().any(|l| l.contains(&format!("job {id}"))),
        "the log should name job {id}:\n{}",
        run.stderr
    );

    // The same content under the first name again: a suffix, not an overwrite.
    drop_file(&wd, "first.csv", &contents);
    once(&wd, &[]).assert_code(0);
    assert_eq!(wd.jobs().len(), 1);
    let csvs = csv_names(&wd, "done");
    assert_eq!(csvs.len(), 3, "{csvs:?}");
    assert_eq!(
        names(&wd, "done").len(),
        5,
        "three files and two notes: {:?}",
        names(&wd, "done")
    );
}

#[test]
fn a_name_clash_in_done_gets_a_suffix() {
    let wd = Workdir::new();
    let one = users_csv(1, 2);
    let two = users_csv(3, 5);
    drop_file(&wd, "team.csv", &one);
    once(&wd, &[]).assert_code(0);
    drop_file(&wd, "team.csv", &two);
    once(&wd, &[]).assert_code(0);

    let done = names(&wd, "done");
    assert_eq!(done.len(), 2, "{done:?}");
    assert_eq!(read_in(&wd, "done", "team.csv"), one, "never overwritten");
    let other = done.iter().find(|n| *n != "team.csv").unwrap();
    assert!(
        other.starts_with("team") && other.ends_with(".csv"),
        "the second keeps its name with a suffix: {other}"
    );
    assert_eq!(read_in(&wd, "done", other), two);
    assert_eq!(wd.jobs().len(), 2);
    assert_eq!(wd.users_now().len(), 5);
}

#[test]
fn a_name_clash_in_rejected_gets_a_suffix() {
    let wd = Workdir::new();
    let one = "UserPrincipalName,Colour\nalice@contoso.com,red\n";
    let two = "UserPrincipalName,Flavour\nalice@contoso.com,mint\n";
    drop_file(&wd, "bad.csv", one);
    once(&wd, &[]);
    drop_file(&wd, "bad.csv", two);
    once(&wd, &[]);

    let csvs = csv_names(&wd, "rejected");
    assert_eq!(csvs.len(), 2, "{:?}", names(&wd, "rejected"));
    assert_eq!(
        read_in(&wd, "rejected", "bad.csv"),
        one,
        "never overwritten"
    );
    for csv in &csvs {
        let stem = csv.strip_suffix(".csv").unwrap();
        let contents = read_in(&wd, "rejected", csv);
        let why = read_in(&wd, "rejected", &format!("{stem}.error.txt"));
        let column = if contents == one { "Colour" } else { "Flavour" };
        assert!(
            why.contains(column),
            "{stem}.error.txt should be about {column}:\n{why}"
        );
    }
    assert_eq!(names(&wd, "rejected").len(), 4);
}

// ---- several watchers ---------------------------------------------------------------

#[test]
fn two_watchers_on_one_folder_never_take_the_same_file() {
    let wd = Workdir::new();
    // The database exists before the watchers start.
    wd.exec(&["jobs"]).assert_code(0);
    let mut a = spawn_watch(&wd, "0.3", &["--quiet"]);
    wait_set_up(&wd, &a);
    let mut b = spawn_watch(&wd, "0.3", &["--quiet"]);
    wait_until("the second watcher to start", || {
        b.log().contains("watching")
    });

    let files: Vec<String> = (1..=12).map(|i| format!("f{i:02}.csv")).collect();
    for (i, name) in (1u32..).zip(&files) {
        drop_file(&wd, name, &users_csv(i, i));
    }
    wait_until("every file to be done", || {
        names(&wd, "done").len() >= files.len() || !a.running() || !b.running()
    });
    assert!(a.running(), "watcher a ended early:\n{}", a.log());
    assert!(b.running(), "watcher b ended early:\n{}", b.log());
    a.signal("TERM");
    b.signal("TERM");
    a.assert_exit_0();
    b.assert_exit_0();

    assert_eq!(
        names(&wd, "done"),
        files,
        "each file once, no suffix, no note"
    );
    assert_eq!(names(&wd, "inbox"), Vec::<String>::new());
    assert_eq!(names(&wd, "processing"), Vec::<String>::new());
    assert_eq!(names(&wd, "rejected"), Vec::<String>::new());
    assert_eq!(wd.jobs().len(), files.len(), "one job per file");
    assert_eq!(wd.users_now().len(), files.len());
    let logs = format!("{}{}", a.log(), b.log());
    for name in &files {
        assert_eq!(
            lines_with(&logs, &format!("taken {name}")).len(),
            1,
            "{name} taken once:\n{logs}"
        );
        assert_eq!(
            lines_with(&logs, &format!("done {name}")).len(),
            1,
            "{name} done once:\n{logs}"
        );
    }
}

#[test]
fn watchers_started_at_the_same_moment_all_set_up() {
    let wd = Workdir::new();
    wd.exec(&["jobs"]).assert_code(0);
    // Several watchers on a new folder at once, a few times over.
    for round in 0..25 {
        let dir = format!("drop{round}");
        let args = [
            "watch",
            dir.as_str(),
            "--once",
            "--settle",
            "0",
            "--interval",
            "0.05",
        ];
        let mut watchers: Vec<Watcher> = (0..8).map(|_| Watcher::spawn(&wd, &args, &[])).collect();
        for w in &mut watchers {
            w.assert_exit_0();
        }
    }
}

// ---- stopping and restarting --------------------------------------------------------

/// A watcher that processes the drop folder once, in batches of 10: the
/// crash tests kill it with a test hook.
fn killed_watcher() -> Vec<&'static str> {
    [&ONCE[..], &["--batch-size", "10", "--quiet"]].concat()
}

/// The reports and export of `wd` are those of a run of the bulk file that
/// was never interrupted.
fn assert_as_uninterrupted(wd: &Workdir, n: u32, contents: &str) {
    let clean = Workdir::new();
    setup_bulk_directory(&clean, n);
    drop_file(&clean, "bulk.csv", contents);
    once(&clean, &["--batch-size", "10", "--quiet"]).assert_code(1);
    assert_eq!(names(wd, "reports"), names(&clean, "reports"));
    for report in names(wd, "reports") {
        assert_eq!(
            read_in(wd, "reports", &report),
            read_in(&clean, "reports", &report),
            "{report} differs from the uninterrupted run"
        );
    }
    assert_eq!(wd.export("assignments"), clean.export("assignments"));
}

/// The rows of the bulk file of the crash tests.
const N: u32 = 110;

/// A bulk file dropped and a watcher killed by the test hook `hook` (once
/// it has committed its third batch): the file is left in processing.
fn drop_and_kill(hook: &str) -> (Workdir, String) {
    let wd = Workdir::new();
    setup_bulk_directory(&wd, N);
    let contents = bulk_assignments(N);
    drop_file(&wd, "bulk.csv", &contents);
    let mut first = Watcher::spawn(&wd, &killed_watcher(), &[(hook, "3")]);
    let status = first.wait();
    assert!(
        !status.success(),
        "the first watcher should have been aborted; log:\n{}",
        first.log()
    );
    assert_eq!(
        names(&wd, "processing"),
        vec!["bulk.csv"],
        "left in processing"
    );
    (wd, contents)
}

#[test]
fn kill_9_while_processing_then_restart_reports_every_row_once() {
    let (wd, contents) = drop_and_kill(ABORT_AFTER);
    assert_eq!(names(&wd, "done"), Vec::<String>::new());
    let id = last_job_id(&wd);
    assert_eq!(id, 3);
    let job = wd.job_json(id);
    assert_ne!(job["state"], "done");
    let pending = job["pending"].as_u64().unwrap();
    assert!(
        pending > 0 && pending < u64::from(N),
        "stopped part-way: {job}"
    );

    // Started again, without the hook: it resumes the file left in processing.
    let run = once(&wd, &["--quiet"]);
    run.assert_code(1);
    assert_eq!(names(&wd, "processing"), Vec::<String>::new());
    assert_eq!(names(&wd, "done"), vec!["bulk.csv"], "{}", run.stderr);
    assert_eq!(read_in(&wd, "done", "bulk.csv"), contents);
    assert_eq!(wd.jobs().len(), 3, "the same job resumed, no new one");
    let job = wd.job_json(id);
    assert_eq!(job["state"], "done");
    assert_eq!(job["pending"], 0);
    assert_every_row_once(&wd, id, "bulk", u64::from(N));

    assert_as_uninterrupted(&wd, N, &contents);
    let (_, failed) = drop_report(&wd, id, "bulk", "failed");
    assert!(
        failed.iter().all(|r| r["ErrorCode"] == "USER_NOT_FOUND") && failed.len() == 4,
        "{failed:?}"
    );
}

/// Killed while it stored the file (before its job was queued): started
/// again, the watcher stores it again as that same job, whose reports are
/// those of a run never interrupted.
#[test]
fn kill_9_while_storing_then_restart_stores_it_again_as_the_same_job() {
    let (wd, contents) = drop_and_kill("NUMBATCH_TEST_ABORT_AFTER_STORED_BATCHES");
    assert_eq!(wd.jobs().len(), 2, "not queued yet");

    let run = once(&wd, &["--quiet"]);
    run.assert_code(1);
    assert_eq!(names(&wd, "done"), vec!["bulk.csv"], "{}", run.stderr);
    assert!(
        run.stderr
            .contains("bulk.csv: job 3 was interrupted while being stored: stored again"),
        "{}",
        run.stderr
    );
    assert_eq!(wd.jobs().len(), 3, "the same job, no other");
    assert_eq!(wd.job_json(3)["state"], "done");
    assert_every_row_once(&wd, 3, "bulk", u64::from(N));
    assert_as_uninterrupted(&wd, N, &contents);
}

#[test]
fn kill_9_then_restart_through_another_path_to_the_same_folder_resumes() {
    const N: u32 = 60;
    let wd = Workdir::new();
    setup_bulk_directory(&wd, N);
    drop_file(&wd, "bulk.csv", &bulk_assignments(N));
    let mut first = Watcher::spawn(
        &wd,
        &[
            "watch",
            DROP,
            "--once",
            "--settle",
            "0",
            "--batch-size",
            "10",
            "--quiet",
        ],
        &[(ABORT_AFTER, "2")],
    );
    assert!(!first.wait().success());
    assert_eq!(names(&wd, "processing"), vec!["bulk.csv"]);

    // The same folder, reached through a link (a mount point, a share path).
    std::os::unix::fs::symlink(wd.path(DROP), wd.path("same-drop")).unwrap();
    let run = wd.exec(&["watch", "same-drop", "--once", "--settle", "0", "--quiet"]);
    run.assert_code(1);
    let job = wd.job_json(3);
    assert_eq!(job["state"], "done", "the job ran to its end: {job}");
    assert_eq!(names(&wd, "done"), vec!["bulk.csv"], "{}", run.stderr);
    assert_every_row_once(&wd, 3, "bulk", u64::from(N));
}

#[test]
fn sigterm_stops_a_watcher_cleanly_with_exit_0() {
    let wd = Workdir::new();
    let mut w = spawn_watch(&wd, "0", &[]);
    wait_set_up(&wd, &w);
    drop_file(&wd, "staff.csv", &users_csv(1, 5));
    wait_until("staff.csv to be done", || {
        names(&wd, "done") == ["staff.csv"] && w.log().contains("done staff.csv")
    });
    assert!(
        w.running(),
        "watch without --once keeps running:\n{}",
        w.log()
    );
    w.signal("TERM");
    w.assert_exit_0();
    let log = w.log();
    assert_eq!(lines_with(&log, "taken staff.csv").len(), 1, "{log}");
    let done = lines_with(&log, "done staff.csv");
    assert_eq!(done.len(), 1, "{log}");
    assert!(done[0].contains("5 applied"), "{}", done[0]);
    assert_eq!(wd.users_now().len(), 5);
}

#[test]
fn ctrl_c_stops_an_idle_watcher_with_exit_0() {
    let wd = Workdir::new();
    let mut w = spawn_watch(&wd, "0", &["--quiet"]);
    wait_set_up(&wd, &w);
    w.signal("INT");
    w.assert_exit_0();
}

#[test]
fn sigterm_mid_job_ends_cleanly_and_a_restart_finishes_the_file() {
    const N: u32 = 600;
    let wd = Workdir::new();
    setup_bulk_directory(&wd, N);
    let contents = bulk_assignments(N);
    let mut w = spawn_watch(&wd, "0", &["--batch-size", "3"]);
    wait_set_up(&wd, &w);
    drop_file(&wd, "bulk.csv", &contents);
    // Signal as soon as the file is taken (on a fast machine the job may
    // still end before the signal arrives: both ways are checked below).
    let start = Instant::now();
    while names(&wd, "processing").is_empty() && names(&wd, "done").is_empty() {
        assert!(start.elapsed() < BOUND, "bulk.csv was never taken");
        sleep_ms(5);
    }
    w.signal("TERM");
    w.assert_exit_0();
    let log = w.log();
    if names(&wd, "done").is_empty() {
        // Stopped part-way: the file waits in processing for the next start.
        assert_eq!(names(&wd, "processing"), vec!["bulk.csv"], "{log}");
        assert!(log.contains("stopped"), "{log}");
        once(&wd, &["--quiet"]).assert_code(1);
    }
    assert_eq!(names(&wd, "done"), vec!["bulk.csv"]);
    assert_eq!(names(&wd, "processing"), Vec::<String>::new());
    assert_eq!(wd.jobs().len(), 3, "one job for the file");
    assert_eq!(wd.job_json(3)["state"], "done");
    assert_every_row_once(&wd, 3, "bulk", u64::from(N));
}
