use clap::Parser;
use numbatch::cli::Cli;
use numbatch::cmd;

fn main() {
    // Like other Unix tools, end quietly when the reader of our output goes
    // away (`numbatch jobs | head`) instead of failing on the broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default action of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // clap exits 0 for --help/--version and 2 for usage errors.
        Err(e) => e.exit(),
    };
    let code = match cmd::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("numbatch: {e}");
            e.exit_code()
        }
    };
    numbatch::timing::print_if_asked();
    std::process::exit(code as i32);
}
