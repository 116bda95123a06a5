use std::process::ExitCode;

use clap::Parser;
use switchyard::cli::{self, Cli, Command};

fn main() -> ExitCode {
    // Panics get color-eyre's report; ordinary errors are printed plainly below.
    let _ = color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .install();
    let mut cli = Cli::parse();
    let command = cli.command.take().unwrap_or(Command::Tui);
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(color_eyre::eyre::Report::from)
        .and_then(|rt| rt.block_on(cli::run(cli, command)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`| head`): end quietly, as `ip` does.
        Err(report) if cli::is_broken_pipe(&report) => switchyard::host::die_of_sigpipe(),
        Err(report) => {
            eprintln!("{}", cli::error_text(&report));
            ExitCode::FAILURE
        }
    }
}
