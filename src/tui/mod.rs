//! The interactive TUI: a live view of the host's virtual networks, ports, leases and traffic.
//!
//! Shape: a [`DataSource`] publishes [`Snapshot`]s and runs [`Command`]s; one event loop
//! ([`runloop`]) feeds every event to the single owner of state, [`App`], whose pure `update`
//! returns [`Effect`]s; [`views`] draw from `&App` only when something changed. Popups form a
//! stack that gets keys before the focused view (room for the coming wizards).

pub mod app;
pub mod config;
pub mod data;
pub mod event;
pub mod format;
pub mod keymap;
pub mod keys;
pub mod layout;
pub mod runloop;
pub mod terminal;
pub mod theme;
pub mod views;
pub mod widgets;
pub mod wizard;

use std::path::PathBuf;

use color_eyre::eyre::{eyre, WrapErr};
use crossterm::event::EventStream;
use tokio::signal::unix::{signal, SignalKind};

pub use app::{App, Settings, View};
pub use config::Config;
pub use data::{
    Command, CommandResult, DataSource, HostSummary, IfaceRow, LeaseRow, NetworkRow, PortRow,
    Progress, ProgressSender, Snapshot,
};
pub use event::{Effect, Event};
pub use format::Units;
pub use theme::Theme;

/// Options from the command line; they win over the config file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TuiOptions {
    /// Refresh interval in milliseconds; 0 means "from the config file" (default 1000).
    pub interval_ms: u64,
    /// Show rates in bytes per second instead of bits.
    pub bytes: bool,
    /// Theme name, instead of the config file's.
    pub theme: Option<String>,
    /// Config file, instead of `<config dir>/switchyard/config.toml`.
    pub config_path: Option<PathBuf>,
}

/// Combine the config file, the options and `NO_COLOR` into App settings.
pub fn settings_for(
    config: &Config,
    opts: &TuiOptions,
    no_color: bool,
) -> color_eyre::Result<Settings> {
    let interval_ms = match opts.interval_ms {
        0 => config.interval_ms,
        ms if (config::MIN_INTERVAL_MS..=config::MAX_INTERVAL_MS).contains(&ms) => ms,
        ms => {
            return Err(eyre!(
                "interval_ms: {ms} is out of range {}..={}",
                config::MIN_INTERVAL_MS,
                config::MAX_INTERVAL_MS
            ))
        }
    };
    let theme = if no_color {
        Theme::no_color()
    } else {
        let name = opts.theme.as_deref().unwrap_or(&config.theme);
        Theme::load(name, config::themes_dir().as_deref())?
    };
    let mut settings = Settings::from_config(config, theme);
    settings.interval_ms = interval_ms;
    if opts.bytes {
        settings.units = Units::Bytes;
    }
    Ok(settings)
}

/// `NO_COLOR` set and non-empty (see no-color.org).
fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Resolves when SIGTERM, SIGHUP (an SSH drop) or SIGINT (`kill -INT`; Ctrl-C is a key in
/// raw mode) arrives, with the signal's name.
fn shutdown_signals() -> std::io::Result<impl std::future::Future<Output = &'static str>> {
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = hup.recv() => "SIGHUP",
            _ = int.recv() => "SIGINT",
        }
    })
}

/// Why this terminal cannot show the TUI, if it cannot: `TERM=dumb` (no cursor movement) or
/// an output that is not a terminal.
fn unusable_terminal(term: Option<&str>, stdout_is_tty: bool) -> Option<String> {
    let hint = "the CLI verbs work anywhere (`switchyard list`, `ports`, `watch`, `leases NAME`)";
    if term == Some("dumb") {
        return Some(format!(
            "this terminal (TERM=dumb) cannot draw switchyard's screen; set TERM (e.g. \
             TERM=xterm-256color) or use the CLI: {hint}"
        ));
    }
    (!stdout_is_tty).then(|| format!("the TUI needs a terminal on standard output; {hint}"))
}

/// Run the TUI until the user quits or a signal arrives; the terminal is restored on every
/// exit path, panics included.
pub async fn run<S: DataSource>(source: S, opts: TuiOptions) -> color_eyre::Result<()> {
    use std::io::IsTerminal;
    let term = std::env::var("TERM").ok();
    if let Some(why) = unusable_terminal(term.as_deref(), std::io::stdout().is_terminal()) {
        return Err(eyre!(why));
    }
    let config = Config::load(opts.config_path.as_deref())?;
    let settings = settings_for(&config, &opts, no_color_env())?;
    source.refresh_interval(settings.interval_ms);
    let stop = shutdown_signals().wrap_err("installing signal handlers")?;
    let (guard, mut terminal) =
        terminal::TerminalGuard::enter().wrap_err("setting up the terminal")?;
    let size = terminal.size().wrap_err("reading the terminal size")?;
    let mut app = App::new(settings, (size.width, size.height));
    let exit = runloop::run_loop(&mut terminal, &mut app, &source, EventStream::new(), stop).await;
    drop(guard);
    exit.wrap_err("terminal I/O failed")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::unusable_terminal;

    #[test]
    fn dumb_terminals_and_pipes_get_a_clear_message() {
        let dumb = unusable_terminal(Some("dumb"), true).expect("refused");
        assert!(
            dumb.contains("TERM=dumb") && dumb.contains("switchyard list"),
            "{dumb}"
        );
        assert!(unusable_terminal(Some("xterm"), false).is_some());
        assert_eq!(unusable_terminal(Some("xterm-256color"), true), None);
        assert_eq!(unusable_terminal(None, true), None);
    }
}
