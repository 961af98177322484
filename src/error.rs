//! Library errors and the exit codes of the contract (SPEC §6).

use std::path::Path;

/// Exit codes of SPEC §6, in order of gravity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitCode {
    /// Every row applied or unchanged (or would apply).
    Ok = 0,
    /// The jobs ran to the end and some rows failed.
    RowsFailed = 1,
    /// Nothing was done: bad usage or a file rejected as a whole.
    Rejected = 2,
    /// A runtime failure (database, disk); `resume` continues.
    Runtime = 3,
}

/// A file rejected as a whole: it names the file and, where it can, the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {problem}", line.map(|l| format!(": line {l}")).unwrap_or_default())]
pub struct FileError {
    pub path: String,
    pub line: Option<u64>,
    pub problem: String,
}

impl FileError {
    pub fn new(path: &Path, line: Option<u64>, problem: impl Into<String>) -> FileError {
        FileError {
            path: crate::text::path(path),
            line,
            problem: problem.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad usage: exit 2.
    #[error("{0}")]
    Usage(String),
    /// A file rejected as a whole: exit 2.
    #[error(transparent)]
    File(#[from] FileError),
    /// `show` of something the directory never had, `job` of an unknown id: exit 2.
    #[error("{0}")]
    NotFound(String),
    /// The database failed: exit 3.
    #[error("database error: {0}; the work done so far is kept: run `numbatch resume` to continue")]
    Db(#[from] rusqlite::Error),
    /// Reading or writing a file or folder failed: exit 3.
    #[error("{path}: {source}; the work done so far is kept: run `numbatch resume` to continue")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The database holds something this version cannot read: exit 3.
    #[error("database: {0}")]
    Corrupt(String),
}

impl Error {
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: crate::text::path(path),
            source,
        }
    }

    /// An output file given with `-o` that cannot be created (no such
    /// folder, no permission): bad usage, exit 2; nothing was done.
    pub fn output(path: &Path, source: std::io::Error) -> Error {
        Error::Usage(format!(
            "{}: {source}: nothing was written; give -o a file in a folder that exists and that you may write to",
            crate::text::path(path)
        ))
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) | Error::File(_) | Error::NotFound(_) => ExitCode::Rejected,
            Error::Db(_) | Error::Io { .. } | Error::Corrupt(_) => ExitCode::Runtime,
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::Corrupt(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
