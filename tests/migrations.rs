//! Schema migrations: a database written by an older numbatch is brought up
//! to date when it is opened, and reads the same afterwards.

mod util;

use util::*;

/// The statement of schema version 1 (`001_init.sql`) that starts with
/// `head`, up to and including `tail`.
fn version_1_statement(head: &str, tail: &str) -> &'static str {
    const V1: &str = include_str!("../src/store/migrations/001_init.sql");
    let start = V1.find(head).expect("statement in 001_init.sql");
    let len = V1[start..].find(tail).expect("end of statement") + tail.len();
    &V1[start..start + len]
}

/// Turns a database of the current schema back into schema version 1 (the
/// first release): number rows in words with `given_to` always stored, its
/// indexes and trigger, and no history table (every statement of version 1
/// as `001_init.sql` has it).
fn back_to_version_1(wd: &Workdir) {
    let numbers = version_1_statement("CREATE TABLE numbers (", ") WITHOUT ROWID;").replacen(
        "CREATE TABLE numbers (",
        "CREATE TABLE numbers_v1 (",
        1,
    );
    let trigger = version_1_statement("CREATE TRIGGER numbers_holder_licensed", "END;");
    let number_indexes = version_1_statement(
        "CREATE UNIQUE INDEX numbers_one_primary",
        "CREATE INDEX numbers_by_holder ON numbers (holder);",
    );
    let audit_indexes = version_1_statement(
        "CREATE INDEX audit_by_number",
        "CREATE INDEX audit_by_prev_upn ON audit (prev_upn);",
    );
    let conn = rusqlite::Connection::open(wd.db()).expect("open database");
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = OFF;
         BEGIN;
         {numbers}
         INSERT INTO numbers_v1
         SELECT e164,
                CASE number_type WHEN 1 THEN 'service' ELSE 'subscriber' END,
                CASE state WHEN 1 THEN 'assigned' WHEN 2 THEN 'released' ELSE 'available' END,
                holder,
                CASE role WHEN 1 THEN 'primary' WHEN 0 THEN 'additional' END,
                coalesce(given_to, holder),
                given_at
         FROM numbers;
         DROP TABLE numbers;
         ALTER TABLE numbers_v1 RENAME TO numbers;
         {number_indexes}
         {trigger}
         DROP TABLE history;
         {audit_indexes}
         COMMIT;
         PRAGMA user_version = 1;"
    ))
    .expect("downgrade");
}

/// What the database stores for a number, each column as text.
fn stored_number(wd: &Workdir, e164: &str) -> Vec<Option<String>> {
    let conn = rusqlite::Connection::open(wd.db()).expect("open database");
    conn.query_row(
        "SELECT CAST(number_type AS TEXT), CAST(state AS TEXT), holder, CAST(role AS TEXT), given_to
         FROM numbers WHERE e164 = ?1",
        [e164],
        |r| (0..5).map(|i| r.get(i)).collect(),
    )
    .expect("number row")
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
    wd.give(&[&format!(",{},unassign", uk(2))]);
    let latest = version(&wd);
    let subjects = [ALICE.to_string(), BOB.to_string(), uk(1), uk(2)];
    let show = |s: &str| wd.exec(&["show", s, "--json"]).stdout;
    let before: Vec<String> = subjects.iter().map(|s| show(s)).collect();
    let export = wd.export("assignments");
    assert!(before[2].contains("reassign"), "{}", before[2]);

    back_to_version_1(&wd);
    assert_eq!(version(&wd), 1);
    let words = |v: &[&str]| -> Vec<Option<String>> {
        v.iter()
            .map(|s| (!s.is_empty()).then(|| s.to_string()))
            .collect()
    };
    assert_eq!(
        stored_number(&wd, &uk(1)),
        words(&["subscriber", "assigned", BOB, "primary", BOB])
    );
    assert_eq!(
        stored_number(&wd, &uk(2)),
        words(&["subscriber", "available", "", "", ALICE])
    );
    let after: Vec<String> = subjects.iter().map(|s| show(s)).collect();
    assert_eq!(after, before, "show reads the same after the migration");
    assert_eq!(version(&wd), latest);
    // Version 3 stores small integers, and no `given_to` while it is the
    // holder.
    assert_eq!(stored_number(&wd, &uk(1)), words(&["0", "1", BOB, "1", ""]));
    assert_eq!(
        stored_number(&wd, &uk(2)),
        words(&["0", "0", "", "", ALICE])
    );
    assert_eq!(wd.export("assignments"), export);
    // Version 4 checks a holder with its triggers alone, on insert too.
    let conn = rusqlite::Connection::open(wd.db()).expect("open database");
    let stored_for = |upn: &str| {
        conn.execute(
            "INSERT INTO numbers (e164, number_type, state, holder, role)
             VALUES ('+447700900999', 0, 1, ?1, 0)",
            [upn],
        )
    };
    assert!(stored_for("nobody@contoso.com").is_err());
    assert!(stored_for(ERIN).is_err(), "erin is not voice-enabled");
    assert_eq!(stored_for(ALICE).ok(), Some(1));
    conn.execute("DELETE FROM numbers WHERE e164 = '+447700900999'", [])
        .expect("delete");
    drop(conn);

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
