//! The two per-job reports of SPEC §5, streamed from the queue: what
//! succeeded (normalised) and what failed (as written, with the reason).

use crate::error::{Error, Result};
use crate::queue::{self, Counts, Job, Status};
use crate::text::{escape, escape_cell, neutralise};
use rusqlite::{Connection, OpenFlags};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

pub struct Paths {
    pub succeeded: PathBuf,
    pub failed: PathBuf,
}

pub fn paths(job: &Job) -> Paths {
    let dir = Path::new(&job.reports_dir);
    let base = format!("{}-{}", job.id, job.stem);
    Paths {
        succeeded: dir.join(format!("{base}.succeeded.csv")),
        failed: dir.join(format!("{base}.failed.csv")),
    }
}

/// A CSV file written beside its final name and renamed into place, so a
/// report is never seen half written.
struct Out {
    tmp: PathBuf,
    dest: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
}

impl Out {
    fn create(dest: &Path, header: &[&str]) -> Result<Out> {
        let tmp = dest.with_extension("csv.tmp");
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(BufWriter::new(file));
        writer
            .write_record(header)
            .map_err(|e| csv_error(&tmp, e))?;
        Ok(Out {
            tmp,
            dest: dest.to_path_buf(),
            writer,
        })
    }

    fn write<I, S>(&mut self, cells: I) -> Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        self.writer
            .write_record(cells)
            .map_err(|e| csv_error(&self.tmp, e))
    }

    fn finish(self) -> Result<()> {
        let file = self
            .writer
            .into_inner()
            .map_err(|e| Error::io(&self.tmp, e.into_error()))?;
        let file = file
            .into_inner()
            .map_err(|e| Error::io(&self.tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&self.tmp, e))?;
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| Error::io(&self.dest, e))
    }
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        other => Error::io(path, std::io::Error::other(format!("{other:?}"))),
    }
}

/// Writes both reports of a job (even when empty), and counts its rows by
/// status on the way (the same pass: the job is not read again to count).
pub fn write(conn: &Connection, job: &Job) -> Result<Counts> {
    let paths = paths(job);
    let dir = Path::new(&job.reports_dir);
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let columns: Vec<&str> = job.kind.columns().iter().map(|c| c.name()).collect();
    let mut ok_header = columns.clone();
    ok_header.extend(["Row", "Outcome", "Detail"]);
    let mut bad_header = columns;
    bad_header.extend(["Row", "ErrorCode", "Error"]);
    let mut ok = Out::create(&paths.succeeded, &ok_header)?;
    let mut bad = Out::create(&paths.failed, &bad_header)?;
    let mut counts = Counts::default();
    queue::each_row(conn, job.id, None, |r| {
        counts.add(r.status);
        let row = r.row.to_string();
        match (r.status, &r.op) {
            (Status::Failed, _) | (Status::Pending, _) | (_, None) => {
                let mut cells: Vec<String> = r
                    .raw
                    .iter()
                    .map(|c| neutralise(&escape_cell(c)).into_owned())
                    .collect();
                cells.push(row);
                cells.push(r.code.unwrap_or_else(|| "PENDING".to_string()));
                cells.push(neutralise(&escape(&r.message)).into_owned());
                bad.write(&cells)
            }
            (status, Some(op)) => {
                let mut cells: Vec<String> = op
                    .cells()
                    .iter()
                    .map(|c| neutralise(c).into_owned())
                    .collect();
                cells.push(row);
                cells.push(status.as_str().to_string());
                cells.push(neutralise(&escape(&r.message)).into_owned());
                ok.write(&cells)
            }
        }
    })?;
    ok.finish()?;
    bad.finish()?;
    Ok(counts)
}

/// Writes both reports of a job whose rows all have their outcome, reading
/// them through a connection of its own to the database at `db` (so that
/// another thread can go on using its connection meanwhile).
pub fn write_from(db: &Path, job: &Job) -> Result<Counts> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(crate::store::BUSY_TIMEOUT)?;
    write(&conn, job)
}
