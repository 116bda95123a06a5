//! What flows into `App::update` and what comes out of it.

use std::sync::Arc;

use crossterm::event::{KeyEvent, MouseEvent};

use super::data::{Command, CommandResult, Snapshot};

/// Something that happened: input, new data, time passing, a command finishing.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A key was pressed.
    Key(KeyEvent),
    /// The mouse was clicked or scrolled.
    Mouse(MouseEvent),
    /// The terminal was resized to (columns, rows).
    Resize(u16, u16),
    /// The data source published a new snapshot (shared with the source, not copied).
    Snapshot(Arc<Snapshot>),
    /// A quarter second passed (spinner, countdowns, toasts, timeouts).
    Tick,
    /// A running command began a step (see `DataSource::execute_with_progress`).
    Progress {
        /// The command's request id.
        id: u64,
        /// The step in words.
        step: String,
    },
    /// A command finished.
    CommandDone(CommandResult),
    /// The data source stopped publishing.
    SourceClosed,
}

/// Something `App::update` asks the event loop to do; the loop does the I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Run a command on the backend, tagged with a request id.
    Execute(u64, Command),
    /// Change the data source's refresh interval.
    SetInterval(u64),
    /// Leave the TUI.
    Quit,
}

impl Effect {
    /// The request id of the command `effects` ask to run, if they ask to run one.
    pub fn executed_id(effects: &[Effect]) -> Option<u64> {
        effects.iter().find_map(|e| match e {
            Effect::Execute(id, _) => Some(*id),
            _ => None,
        })
    }
}

/// Milliseconds between two [`Event::Tick`]s.
pub const TICK_MS: u64 = 250;
/// Ticks per second.
pub const TICKS_PER_SEC: u64 = 1_000 / TICK_MS;
