use clap::Parser;
use color_eyre::eyre::Result;
use switchyard::cli::{self, Cli, Command};

fn main() -> Result<()> {
    color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .install()?;
    let mut cli = Cli::parse();
    let command = cli.command.take().unwrap_or(Command::List { all: true, json: false });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(cli::run(cli, command))
}
