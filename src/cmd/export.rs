//! `numbatch export KIND [-o FILE]`: the directory now, in the template
//! format of KIND, so that running the export rebuilds it.

use super::Config;
use crate::apply::rules::Role;
use crate::error::{Error, ExitCode, Result};
use crate::model::{Action, Kind, Op};
use crate::store::directory;
use crate::text::neutralise;
use std::io::Write;
use std::path::Path;

pub fn run(config: &Config, kind: Kind, output: Option<&Path>) -> Result<ExitCode> {
    let store = config.store()?;
    let target = output.unwrap_or(Path::new("<stdout>"));
    let sink: Box<dyn Write> = match output {
        Some(path) => Box::new(std::fs::File::create(path).map_err(|e| Error::output(path, e))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(sink));
    let io = |e: csv::Error| Error::io(target, std::io::Error::other(e.to_string()));
    let header: Vec<&str> = kind.columns().iter().map(|c| c.name()).collect();
    w.write_record(&header).map_err(io)?;
    let mut put = |op: Op| -> Result<()> {
        let cells: Vec<String> = op
            .cells()
            .iter()
            .map(|c| neutralise(c).into_owned())
            .collect();
        w.write_record(&cells).map_err(io)
    };
    match kind {
        Kind::Users => directory::each_user(&store.conn, |u| {
            put(Op::User {
                action: Action::Upsert,
                upn: u.upn,
                display_name: Some(u.display_name).filter(|d| !d.is_empty()),
                plan: Some(u.plan),
                voice_enabled: Some(u.voice_enabled),
            })
        })?,
        Kind::Numbers => directory::each_number(&store.conn, false, |n| {
            put(Op::Number {
                action: Action::Add,
                number: n.e164,
                number_type: Some(n.number_type),
            })
        })?,
        Kind::Assignments => directory::each_number(&store.conn, true, |n| {
            let Some((holder, role)) = n.holder() else {
                return Ok(());
            };
            put(Op::Assignment {
                action: if role == Role::Primary {
                    Action::Assign
                } else {
                    Action::Add
                },
                upn: Some(holder.to_string()),
                number: n.e164.clone(),
            })
        })?,
    }
    w.flush().map_err(|e| Error::io(target, e))?;
    Ok(ExitCode::Ok)
}
