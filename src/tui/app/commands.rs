//! Commands in flight: request ids, the spinner, timeouts, results, toasts.

use super::log::Level;
use super::App;
use crate::tui::data::{Command, CommandResult};
use crate::tui::event::{Effect, TICKS_PER_SEC};

/// A command is given up on after this many ticks without a result (30 s); a result arriving
/// later is stale and dropped.
pub const COMMAND_TIMEOUT_TICKS: u64 = 30 * TICKS_PER_SEC;

/// How long a toast stays, in ticks.
const TOAST_TICKS: u64 = 4 * TICKS_PER_SEC;

/// A command sent and not yet answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// What was asked.
    pub cmd: Command,
    /// Tick it was sent at.
    pub since_tick: u64,
    /// The step it reported last, if it reports steps.
    pub step: Option<String>,
}

/// A short message in the status line that goes away by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    /// The message.
    pub text: String,
    /// How to show it.
    pub level: Level,
    /// Tick after which it disappears.
    pub until_tick: u64,
}

impl App {
    /// Send a command: new request id, remembered as pending, logged.
    pub(crate) fn issue(&mut self, cmd: Command) -> Vec<Effect> {
        let network = cmd.network();
        if let Some(p) = self
            .pending
            .values()
            .find(|p| network.is_some() && p.cmd.network() == network)
        {
            let text = format!(
                "{}: wait, still {}",
                network.unwrap_or_default(),
                p.cmd.doing()
            );
            self.notify(Level::Warn, text);
            return vec![];
        }
        let id = self.next_id;
        self.next_id += 1;
        if !is_preview(&cmd) {
            self.log(Level::Info, format!("{} (request #{id})", cmd.describe()));
        }
        self.pending.insert(
            id,
            Pending {
                cmd: cmd.clone(),
                since_tick: self.tick,
                step: None,
            },
        );
        vec![Effect::Execute(id, cmd)]
    }

    /// A command finished. Results for ids no longer pending (timed out) are dropped.
    pub(crate) fn on_result(&mut self, result: CommandResult) -> Vec<Effect> {
        let Some(pending) = self.pending.remove(&result.id) else {
            return vec![];
        };
        if !is_preview(&pending.cmd) {
            let what = pending.cmd.describe();
            let message = one_line(&result.message);
            if result.ok {
                self.report(Level::Ok, format!("{what}: {message}"));
            } else {
                self.report(Level::Error, format!("{what} failed: {message}"));
                if let Some(fix) = &result.fix {
                    self.log(Level::Info, format!("  fix: {fix}"));
                }
            }
        }
        if self.forwards_on_result(&result) || self.why_on_result(&result) {
            return vec![];
        }
        self.forms_on_result(&result)
    }

    /// Time passed: spinner, countdowns, toast expiry and command timeouts.
    pub(crate) fn on_tick(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.tick += 1;
        if !self.pending.is_empty() {
            self.touch();
        }
        let expired: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| self.tick.saturating_sub(p.since_tick) >= COMMAND_TIMEOUT_TICKS)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(p) = self.pending.remove(&id) {
                let secs = COMMAND_TIMEOUT_TICKS / TICKS_PER_SEC;
                let message = format!("no answer after {secs} s, gave up");
                let gave_up = CommandResult::failed(id, message.clone().into());
                if !self.forwards_on_result(&gave_up) && !self.why_on_result(&gave_up) {
                    effects.extend(self.forms_on_result(&gave_up));
                }
                self.report(Level::Error, format!("{}: {message}", p.cmd.describe()));
            }
        }
        if self
            .toast
            .as_ref()
            .is_some_and(|t| self.tick > t.until_tick)
        {
            self.toast = None;
            self.touch();
        }
        let countdown_visible = self.view == super::View::Leases && !self.frozen;
        if countdown_visible && self.tick.is_multiple_of(TICKS_PER_SEC) {
            self.touch();
        }
        effects
    }

    /// Show a toast without logging it.
    pub(crate) fn notify(&mut self, level: Level, text: String) {
        self.toast = Some(Toast {
            text,
            level,
            until_tick: self.tick + TOAST_TICKS,
        });
        self.touch();
    }

    /// Log and toast.
    pub(crate) fn report(&mut self, level: Level, text: String) {
        self.log(level, text.clone());
        self.notify(level, text);
    }
}

/// Previews are the wizard's business: not logged, not toasted.
fn is_preview(cmd: &Command) -> bool {
    matches!(cmd, Command::PreviewStart { .. })
}

/// A multi-line backend message on one line, for the log and the status line.
fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join(" · ")
}
