//! `numbatch template KIND [-o FILE]`

use crate::error::{Error, ExitCode, Result};
use crate::model::Kind;
use std::io::Write;
use std::path::Path;

pub fn run(kind: Kind, output: Option<&Path>) -> Result<ExitCode> {
    match output {
        Some(path) => std::fs::write(path, kind.template()).map_err(|e| Error::output(path, e))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(kind.template().as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| Error::io(Path::new("<stdout>"), e))?;
        }
    }
    Ok(ExitCode::Ok)
}
