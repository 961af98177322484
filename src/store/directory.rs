//! The number directory: users, numbers and their audit history.

use super::Prepared;
use crate::apply::rules::{
    self, Change, Effect, Holding, NumberRec, NumberState, Role, Snapshot, UserRec,
};
use crate::error::{Error, Result};
use crate::model::{NumberType, Op, Plan};
use rusqlite::{Connection, OptionalExtension, Row, params};

// The columns of a record, in the order `user_from` and `number_from` read
// them: macros so that the statements below can be constants.
macro_rules! user_columns {
    () => {
        "upn, display_name, plan, voice_enabled, removed_at"
    };
}
macro_rules! number_columns {
    () => {
        "e164, number_type, state, holder, role, given_to, given_at"
    };
}
const USER_COLUMNS: &str = user_columns!();
const NUMBER_COLUMNS: &str = number_columns!();
// The statements of applying a row, as constants for `Prepared`.
const USER_BY_UPN: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE upn = ?1");
const NUMBER_BY_E164: &str = concat!(
    "SELECT ",
    number_columns!(),
    " FROM numbers WHERE e164 = ?1"
);
const HELD_BY: &str = "SELECT e164, role FROM numbers WHERE holder = ?1";
const UPDATE_USER: &str =
    "UPDATE users SET display_name = ?2, plan = ?3, voice_enabled = ?4, removed_at = ?5
     WHERE upn = ?1";
const INSERT_USER: &str = concat!(
    "INSERT INTO users (",
    user_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5)"
);
const UPDATE_NUMBER: &str =
    "UPDATE numbers SET number_type = ?2, state = ?3, holder = ?4, role = ?5,
       given_to = ?6, given_at = ?7 WHERE e164 = ?1";
const INSERT_NUMBER: &str = concat!(
    "INSERT INTO numbers (",
    number_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
);
const INSERT_AUDIT: &str =
    "INSERT INTO audit (at, job_id, row, action, number, upn, prev_upn, before, after)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

fn user_from(r: &Row<'_>) -> rusqlite::Result<UserRec> {
    let plan: String = r.get(2)?;
    Ok(UserRec {
        upn: r.get(0)?,
        display_name: r.get(1)?,
        plan: Plan::parse(&plan).unwrap_or(Plan::Connect),
        voice_enabled: r.get(3)?,
        removed_at: r.get(4)?,
    })
}

// How a number's row stores its state, type and role: small integers
// (schema version 3), which SQLite stores in no bytes for 0 and 1.
const AVAILABLE: i64 = 0;
const ASSIGNED: i64 = 1;
const RELEASED: i64 = 2;
const SUBSCRIBER: i64 = 0;
const SERVICE: i64 = 1;
const ADDITIONAL: i64 = 0;
const PRIMARY: i64 = 1;

/// The role column as the rules know it (the schema allows no other value
/// than these two on a held number).
fn role_from(role: Option<i64>) -> Role {
    if role == Some(PRIMARY) {
        Role::Primary
    } else {
        Role::Additional
    }
}

fn role_code(role: Role) -> i64 {
    match role {
        Role::Primary => PRIMARY,
        Role::Additional => ADDITIONAL,
    }
}

fn number_from(r: &Row<'_>) -> rusqlite::Result<NumberRec> {
    let holder: Option<String> = r.get(3)?;
    // Not stored while the number is held by the user it was given to.
    let given_to: Option<String> = r.get::<_, Option<String>>(5)?.or_else(|| holder.clone());
    let state = match (r.get::<_, i64>(2)?, holder) {
        (RELEASED, _) => NumberState::Released,
        (ASSIGNED, Some(holder)) => NumberState::Assigned {
            holder,
            role: role_from(r.get(4)?),
        },
        _ => NumberState::Available,
    };
    Ok(NumberRec {
        e164: r.get(0)?,
        number_type: if r.get::<_, i64>(1)? == SERVICE {
            NumberType::Service
        } else {
            NumberType::Subscriber
        },
        state,
        given_to,
        given_at: r.get(6)?,
    })
}

pub fn user(db: &mut Prepared<'_>, upn: &str) -> Result<Option<UserRec>> {
    Ok(db
        .get(USER_BY_UPN)?
        .query_row([upn], user_from)
        .optional()?)
}

pub fn number(db: &mut Prepared<'_>, e164: &str) -> Result<Option<NumberRec>> {
    Ok(db
        .get(NUMBER_BY_E164)?
        .query_row([e164], number_from)
        .optional()?)
}

/// The numbers a user holds and their roles, primary first: from the
/// holder index alone.
pub fn held_by(db: &mut Prepared<'_>, upn: &str) -> Result<Vec<Holding>> {
    let st = db.get(HELD_BY)?;
    let rows = st.query_map([upn], |r| {
        Ok(Holding {
            e164: r.get(0)?,
            role: role_from(r.get(1)?),
        })
    })?;
    let mut held: Vec<Holding> = rows.collect::<rusqlite::Result<_>>()?;
    // Sorted here: an ORDER BY costs SQLite a sorter per call.
    held.sort_by(|a, b| {
        (a.role != Role::Primary, &a.e164).cmp(&(b.role != Role::Primary, &b.e164))
    });
    Ok(held)
}

/// The records a row touches.
pub fn snapshot(db: &mut Prepared<'_>, op: &Op) -> Result<Snapshot> {
    let user = match op.upn() {
        Some(upn) => user(db, upn)?,
        None => None,
    };
    let held = match &user {
        Some(u) => held_by(db, &u.upn)?,
        None => Vec::new(),
    };
    let mut held_records = Vec::new();
    if rules::needs_held_records(op) {
        for h in &held {
            held_records.extend(number(db, &h.e164)?);
        }
    }
    let number = match op.number() {
        Some(n) => number(db, n)?,
        None => None,
    };
    Ok(Snapshot {
        user,
        held,
        held_records,
        number,
    })
}

/// Who made a change, for the audit history.
pub struct Origin<'a> {
    pub at: i64,
    pub job_id: Option<i64>,
    pub row: Option<u64>,
    pub action: &'a str,
}

/// Writes the records a row changed, each with an audit entry.
pub fn write(
    db: &mut Prepared<'_>,
    before: &Snapshot,
    effect: &Effect,
    origin: &Origin<'_>,
) -> Result<()> {
    for change in &effect.changes {
        match change {
            Change::User(after) => {
                put_user(db, after, before.user.is_some())?;
                audit(
                    db,
                    origin,
                    None,
                    Some(&after.upn),
                    None,
                    &json(&before.user)?,
                    &json(&Some(after))?,
                )?;
            }
            Change::Number(after) => {
                let prior = before
                    .number
                    .iter()
                    .chain(before.held_records.iter())
                    .find(|n| n.e164 == after.e164);
                put_number(db, after, prior.is_some())?;
                let upn_after = after.holder().map(|(h, _)| h);
                let upn_before = prior.and_then(|p| p.holder()).map(|(h, _)| h);
                let (upn, prev) = match (upn_after, upn_before) {
                    (Some(a), Some(b)) if a != b => (Some(a), Some(b)),
                    (Some(a), _) => (Some(a), None),
                    (None, b) => (b, None),
                };
                audit(
                    db,
                    origin,
                    Some(&after.e164),
                    upn,
                    prev,
                    &json(&prior)?,
                    &json(&Some(after))?,
                )?;
            }
        }
    }
    Ok(())
}

fn json<T: serde::Serialize>(v: &Option<T>) -> Result<Option<String>> {
    v.as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(Error::from)
}

fn put_user(db: &mut Prepared<'_>, u: &UserRec, exists: bool) -> Result<()> {
    // A plain UPDATE or INSERT: an upsert costs SQLite more per row.
    let sql = if exists { UPDATE_USER } else { INSERT_USER };
    db.get(sql)?.execute(params![
        u.upn,
        u.display_name,
        u.plan.key(),
        u.voice_enabled,
        u.removed_at
    ])?;
    Ok(())
}

fn put_number(db: &mut Prepared<'_>, n: &NumberRec, exists: bool) -> Result<()> {
    let (state, holder, role) = match &n.state {
        NumberState::Available => (AVAILABLE, None, None),
        NumberState::Assigned { holder, role } => {
            (ASSIGNED, Some(holder.as_str()), Some(role_code(*role)))
        }
        NumberState::Released => (RELEASED, None, None),
    };
    let number_type = match n.number_type {
        NumberType::Subscriber => SUBSCRIBER,
        NumberType::Service => SERVICE,
    };
    // Read back as the holder when not stored (`number_from`).
    let given_to = n.given_to.as_deref().filter(|g| Some(*g) != holder);
    let sql = if exists { UPDATE_NUMBER } else { INSERT_NUMBER };
    db.get(sql)?.execute(params![
        n.e164,
        number_type,
        state,
        holder,
        role,
        given_to,
        n.given_at
    ])?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn audit(
    db: &mut Prepared<'_>,
    origin: &Origin<'_>,
    number: Option<&str>,
    upn: Option<&str>,
    prev_upn: Option<&str>,
    before: &Option<String>,
    after: &Option<String>,
) -> Result<()> {
    db.get(INSERT_AUDIT)?.execute(params![
        origin.at,
        origin.job_id,
        origin.row.map(|r| r as i64),
        origin.action,
        number,
        upn,
        prev_upn,
        before,
        after
    ])?;
    Ok(())
}

/// One entry of a user's or number's history.
#[derive(Debug, serde::Serialize)]
pub struct Event {
    pub at: i64,
    pub job_id: Option<i64>,
    pub row: Option<i64>,
    pub action: String,
    pub number: Option<String>,
    pub upn: Option<String>,
    pub prev_upn: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The history of a number, or of a user (changes to them and to the numbers
/// they gained or lost), oldest first: the indexed history of finished jobs,
/// and the audit entries of jobs not done yet.
pub fn history(conn: &Connection, number: Option<&str>, upn: Option<&str>) -> Result<Vec<Event>> {
    let mut st = conn.prepare_cached(
        "SELECT id, at, job_id, row, action, number, upn, prev_upn, before, after FROM audit
         WHERE id IN (SELECT audit_id FROM history WHERE subject = ?1 OR subject = ?2)
         UNION ALL
         SELECT id, at, job_id, row, action, number, upn, prev_upn, before, after FROM audit
         WHERE job_id IN (SELECT id FROM jobs WHERE state != 'done')
           AND (number = ?1 OR upn = ?2 OR prev_upn = ?2)
         ORDER BY 1",
    )?;
    let rows = st.query_map(params![number, upn], |r| {
        Ok(Event {
            at: r.get(1)?,
            job_id: r.get(2)?,
            row: r.get(3)?,
            action: r.get(4)?,
            number: r.get(5)?,
            upn: r.get(6)?,
            prev_upn: r.get(7)?,
            before: r.get(8)?,
            after: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Files a finished job's audit entries under their numbers and users, in
/// subject order (one pass over the history table instead of a random write
/// per change). Part of the transaction that marks the job done.
pub fn index_history(conn: &Connection, job_id: i64) -> Result<()> {
    // SQLite lets a sort hold as much memory as the page cache; this one
    // spills to a temporary file beyond 2 MiB instead (measured: 33 MiB more
    // at the end of a 1M-row job, with one sort of each kind of subject).
    conn.pragma_update(None, "cache_size", -2048)?;
    let filed = conn.execute(
        "INSERT OR IGNORE INTO history (subject, audit_id)
         SELECT subject, audit_id FROM (
             SELECT number AS subject, id AS audit_id FROM main.audit
             WHERE job_id = ?1 AND number IS NOT NULL
             UNION ALL SELECT upn, id FROM main.audit WHERE job_id = ?1 AND upn IS NOT NULL
             UNION ALL SELECT prev_upn, id FROM main.audit WHERE job_id = ?1 AND prev_upn IS NOT NULL
         ) ORDER BY 1, 2",
        [job_id],
    );
    conn.pragma_update(None, "cache_size", super::CACHE_SIZE)?;
    filed?;
    Ok(())
}

/// Present users, by UPN.
pub fn each_user(conn: &Connection, mut f: impl FnMut(UserRec) -> Result<()>) -> Result<()> {
    let mut st = conn.prepare(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE removed_at IS NULL ORDER BY upn"
    ))?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        f(user_from(r)?)?;
    }
    Ok(())
}

/// Numbers not released, by number; with `held_only`, the held ones by holder,
/// primary first.
pub fn each_number(
    conn: &Connection,
    held_only: bool,
    mut f: impl FnMut(NumberRec) -> Result<()>,
) -> Result<()> {
    let sql = if held_only {
        format!(
            "SELECT {NUMBER_COLUMNS} FROM numbers WHERE holder IS NOT NULL ORDER BY holder, role DESC, e164"
        )
    } else {
        format!("SELECT {NUMBER_COLUMNS} FROM numbers WHERE state != {RELEASED} ORDER BY e164")
    };
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        f(number_from(r)?)?;
    }
    Ok(())
}

const DIRECTORY_TABLES: [&str; 3] = ["users", "numbers", "audit"];

/// For a dry run: private copies of the directory tables in the connection's
/// temporary schema. Unqualified names resolve to them first, so the same
/// apply code runs against the copies while the queue rows still go to the
/// real tables. Dropped by `unshadow`; gone anyway if the process dies.
pub fn shadow(conn: &Connection) -> Result<()> {
    unshadow(conn)?;
    for table in DIRECTORY_TABLES {
        let sql: String = conn.query_row(
            "SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )?;
        // The copy of the audit table cannot point at the real jobs table.
        let sql = sql
            .replacen("CREATE TABLE", "CREATE TEMP TABLE", 1)
            .replace("REFERENCES jobs (id)", "");
        conn.execute_batch(&sql)?;
        conn.execute_batch(&format!(
            "INSERT INTO temp.{table} SELECT * FROM main.{table}"
        ))?;
    }
    // Their indexes and triggers too, so that the copies hold the same
    // invariants (a temporary trigger's unqualified names are the copies).
    let mut st = conn.prepare(
        "SELECT sql FROM main.sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL
         AND tbl_name IN ('users', 'numbers', 'audit')",
    )?;
    let schema: Vec<String> = st
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for sql in schema {
        let sql = sql
            .replacen("CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX temp.", 1)
            .replacen("CREATE INDEX ", "CREATE INDEX temp.", 1)
            .replacen("CREATE TRIGGER ", "CREATE TEMP TRIGGER ", 1);
        conn.execute_batch(&sql)?;
    }
    conn.flush_prepared_statement_cache();
    Ok(())
}

pub fn unshadow(conn: &Connection) -> Result<()> {
    for table in DIRECTORY_TABLES {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS temp.{table}"))?;
    }
    conn.flush_prepared_statement_cache();
    Ok(())
}

/// One change a job made to a number: the audit id and the records before
/// and after.
pub type NumberChange = (i64, Option<NumberRec>, NumberRec);

/// The changes a job made to numbers, newest first, `limit` at a time from
/// below the audit id `before_id`.
pub fn number_changes(
    conn: &Connection,
    job_id: i64,
    before_id: i64,
    limit: usize,
) -> Result<Vec<NumberChange>> {
    let mut st = conn.prepare_cached(
        "SELECT id, before, after FROM audit WHERE job_id = ?1 AND id < ?2 AND number IS NOT NULL
         ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = st.query_map(params![job_id, before_id, limit as i64], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (id, before, after) = r?;
        let before: Option<NumberRec> = before.as_deref().map(serde_json::from_str).transpose()?;
        let Some(after) = after.as_deref().map(serde_json::from_str).transpose()? else {
            continue;
        };
        out.push((id, before, after));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// Whether the database takes `sql`.
    fn takes(conn: &Connection, sql: &str) -> bool {
        conn.execute_batch(sql).is_ok()
    }

    /// A number's holder must be a present, voice-enabled user, whether the
    /// number is stored with a holder or given one: in the directory, and
    /// in a dry run's copy of it.
    #[test]
    fn the_schema_refuses_a_holder_who_is_not_licensed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("t.db")).expect("open");
        let conn = &store.conn;
        conn.execute_batch(
            "INSERT INTO users (upn, plan, voice_enabled, removed_at) VALUES
                 ('alice@x.com', 'connect', 1, NULL),
                 ('erin@x.com', 'connect', 0, NULL),
                 ('gone@x.com', 'connect', 1, 1);
             INSERT INTO numbers (e164, number_type, state) VALUES ('+441000000001', 0, 0);",
        )
        .expect("directory");
        for copy in [false, true] {
            if copy {
                shadow(conn).expect("shadow");
            }
            let insert = |n: u32, upn: &str| {
                format!(
                    "INSERT INTO numbers (e164, number_type, state, holder, role)
                     VALUES ('+44200000000{n}', 0, 1, '{upn}', 1)"
                )
            };
            let give = |upn: &str| {
                format!(
                    "UPDATE numbers SET state = 1, holder = '{upn}', role = 1
                     WHERE e164 = '+441000000001'"
                )
            };
            for upn in ["erin@x.com", "gone@x.com", "nobody@x.com"] {
                assert!(
                    !takes(conn, &insert(1, upn)),
                    "stored for {upn} (copy: {copy})"
                );
                assert!(!takes(conn, &give(upn)), "given to {upn} (copy: {copy})");
            }
            assert!(takes(conn, &give("alice@x.com")), "copy: {copy}");
            let (n, release) = (
                2 + u32::from(copy),
                "UPDATE numbers SET state = 0, holder = NULL, role = NULL",
            );
            assert!(takes(conn, release), "copy: {copy}");
            assert!(takes(conn, &insert(n, "alice@x.com")), "copy: {copy}");
            assert!(takes(conn, release), "copy: {copy}");
        }
        unshadow(conn).expect("unshadow");
        // The copy's changes went to the copy only.
        let stored: Vec<String> = conn
            .prepare("SELECT e164 FROM numbers ORDER BY e164")
            .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
            .expect("numbers");
        assert_eq!(stored, ["+441000000001", "+442000000002"]);
    }
}
