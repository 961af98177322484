//! Schema migrations: a database written by an older numbatch is brought up
//! to date when it is opened, and reads the same afterwards.

mod util;

use util::*;

/// Turns a database of the current schema back into schema version 1 (the
/// first release): its indexes, and no history table.
fn back_to_version_1(wd: &Workdir) {
    let conn = rusqlite::Connection::open(wd.db()).expect("open database");
    conn.execute_batch(
        "DROP TABLE history;
         DROP INDEX numbers_held;
         CREATE INDEX numbers_by_holder ON numbers (holder);
         CREATE INDEX audit_by_number ON audit (number);
         CREATE INDEX audit_by_upn ON audit (upn);
         CREATE INDEX audit_by_prev_upn ON audit (prev_upn);
         PRAGMA user_version = 1;",
    )
    .expect("downgrade");
}

fn version(wd: &Workdir) -> i64 {
    let conn = rusqlite::Connection::open(wd.db()).expect("open database");
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("user_version")
}

#[test]
fn a_version_1_database_keeps_its_history_and_directory() {
    let wd = Workdir::new();
    wd.setup_directory();
    wd.give(&[
        &format!("{ALICE},{},assign", uk(1)),
        &format!("{ALICE},{},add", uk(2)),
    ]);
    wd.give(&[&format!("{BOB},{},reassign", uk(1))]);
    let latest = version(&wd);
    let subjects = [ALICE.to_string(), BOB.to_string(), uk(1), uk(2)];
    let show = |s: &str| wd.exec(&["show", s, "--json"]).stdout;
    let before: Vec<String> = subjects.iter().map(|s| show(s)).collect();
    let export = wd.export("assignments");
    assert!(before[2].contains("reassign"), "{}", before[2]);

    back_to_version_1(&wd);
    assert_eq!(version(&wd), 1);
    let after: Vec<String> = subjects.iter().map(|s| show(s)).collect();
    assert_eq!(after, before, "show reads the same after the migration");
    assert_eq!(version(&wd), latest);
    assert_eq!(wd.export("assignments"), export);

    // And the migrated database takes new work, with its history.
    wd.give(&[&format!("{CAROL},{},add", uk(3))]);
    let run = wd.exec(&["show", &uk(3), "--json"]);
    run.assert_code(0);
    assert!(run.stdout.contains(CAROL), "{}", run.stdout);
}

#[test]
fn a_database_from_a_newer_numbatch_is_refused() {
    let wd = Workdir::new();
    wd.setup_directory();
    let conn = rusqlite::Connection::open(wd.db()).expect("open database");
    conn.pragma_update(None, "user_version", 99).expect("set");
    drop(conn);
    let run = wd.exec(&["jobs"]);
    run.assert_code(3);
    assert!(run.stderr.contains("newer numbatch"), "{}", run.stderr);
}
