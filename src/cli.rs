//! The command line (SPEC §4), parsed once with clap into typed arguments.

use crate::model::Kind;
use crate::validate::phone::{self, Region};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "numbatch",
    version,
    about = "Bulk phone-number assignment: CSV in, per-row reports out",
    after_help = "Start with `numbatch template assignments -o my.csv`, fill it in, then `numbatch run my.csv`."
)]
pub struct Cli {
    /// The directory database.
    #[arg(
        long,
        global = true,
        env = "NUMBATCH_DB",
        default_value = "numbatch.db"
    )]
    pub db: PathBuf,
    /// Where the per-job reports are written.
    #[arg(long, global = true, default_value = "reports")]
    pub reports: PathBuf,
    /// No progress bar and no notes on standard error.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// The largest CSV file taken, in MiB.
    #[arg(long, global = true, value_name = "MIB", default_value_t = crate::read::DEFAULT_MAX_FILE_MIB)]
    pub max_file_size: u64,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Assignments,
    Users,
    Numbers,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Kind {
        match k {
            KindArg::Assignments => Kind::Assignments,
            KindArg::Users => Kind::Users,
            KindArg::Numbers => Kind::Numbers,
        }
    }
}

/// Options stored with a job.
#[derive(Clone, Debug, Args)]
pub struct JobArgs {
    /// Validate and simulate in file order; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Rows per batch (1 to 500).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u16).range(1..=500))]
    pub batch_size: u16,
    /// Read numbers without `+` as national numbers of this country (e.g. GB, US).
    #[arg(long, value_parser = parse_region)]
    pub region: Option<Region>,
    /// How long a number stays with its last user before it may go to another
    /// (e.g. 90s, 30m, 1h, 0).
    #[arg(long, default_value = "30m", value_parser = parse_cooldown)]
    pub cooldown: i64,
}

#[derive(Clone, Debug, Args)]
pub struct SubmitArgs {
    /// The CSV files, processed in the order given.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub job: JobArgs,
    /// Treat every file as this kind instead of recognising it from the header.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Queue a file even if the same content was submitted before.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the blank template of KIND.
    Template {
        #[arg(value_enum)]
        kind: KindArg,
        /// Write to FILE instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Submit each file as a job and process it to the end, in order.
    Run(SubmitArgs),
    /// Validate and queue only; prints the job ids.
    Submit(SubmitArgs),
    /// Process every queued or interrupted job.
    Resume,
    /// Drop-folder mode: process the CSV files put in DIR/inbox.
    Watch {
        dir: PathBuf,
        /// Process what is in the inbox now, then exit.
        #[arg(long)]
        once: bool,
        /// Seconds a file must stay unchanged before it is taken.
        #[arg(long, default_value_t = 2.0)]
        settle: f64,
        /// Seconds between looks at the inbox.
        #[arg(long, default_value_t = 1.0)]
        interval: f64,
        #[command(flatten)]
        job: JobArgs,
    },
    /// The pending-actions view: every job with its progress and outcomes.
    Jobs {
        #[arg(long)]
        json: bool,
    },
    /// One job, with its failures by code.
    Job {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Run the failed rows of job ID again, as a new job.
    Retry {
        id: i64,
        #[command(flatten)]
        job: JobArgs,
    },
    /// Reverse the assignment changes job ID applied, as a new job.
    Undo {
        id: i64,
        #[command(flatten)]
        job: JobArgs,
    },
    /// The directory as it is now, in the template format of KIND.
    Export {
        #[arg(value_enum)]
        kind: KindArg,
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// One user or number, with its history.
    Show {
        /// A UPN or a phone number.
        subject: String,
        #[arg(long)]
        json: bool,
    },
}

fn parse_region(s: &str) -> Result<Region, String> {
    phone::parse_region(s).ok_or_else(|| {
        format!("\"{s}\" is not a country code: use the two-letter code, e.g. GB, US, DE")
    })
}

/// `90s`, `30m`, `1h` or `0`, in milliseconds.
pub fn parse_cooldown(s: &str) -> Result<i64, String> {
    let bad = || {
        format!("\"{s}\" is not a duration: use a whole number with s, m or h (90s, 30m, 1h) or 0")
    };
    let s = s.trim();
    if s == "0" {
        return Ok(0);
    }
    let (digits, unit) = s.split_at(s.len().saturating_sub(1));
    let scale = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: i64 = digits.parse().map_err(|_| bad())?;
    n.checked_mul(scale).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cooldowns() {
        assert_eq!(parse_cooldown("0"), Ok(0));
        assert_eq!(parse_cooldown("90s"), Ok(90_000));
        assert_eq!(parse_cooldown("30m"), Ok(1_800_000));
        assert_eq!(parse_cooldown("1h"), Ok(3_600_000));
        for bad in ["", "m", "1.5h", "-1m", "10", "5d", "1 h"] {
            assert!(parse_cooldown(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
