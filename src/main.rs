use clap::Parser;
use numbatch::cli::Cli;
use numbatch::cmd;

fn main() {
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
