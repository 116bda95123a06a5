//! The activity log: what switchyard did and what failed, with times.

use super::list::ListState;
use super::App;

/// Entries kept; older ones are dropped.
pub const LOG_CAPACITY: usize = 1_000;

/// How an entry is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Something was done or asked for.
    Info,
    /// A command succeeded.
    Ok,
    /// Attention: drift, a dead service.
    Warn,
    /// A command or the source failed.
    Error,
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Wall-clock time, unix seconds; `None` before any data arrived.
    pub at_unix: Option<u64>,
    /// Severity.
    pub level: Level,
    /// What happened.
    pub text: String,
}

/// Entries and the log view's selection; the selection follows new entries while it is on the
/// last one.
#[derive(Debug, Default)]
pub struct Log {
    pub(crate) entries: Vec<LogEntry>,
    pub(crate) list: ListState,
}

impl Log {
    fn push(&mut self, entry: LogEntry) {
        let follow = self.list.selected + 1 >= self.entries.len();
        if self.entries.len() == LOG_CAPACITY {
            self.entries.remove(0);
            self.list.selected = self.list.selected.saturating_sub(1);
        }
        self.entries.push(entry);
        self.list.len = self.entries.len();
        if follow {
            self.list.selected = self.entries.len() - 1;
        }
    }
}

impl App {
    /// Add a log entry stamped with the current time estimate.
    pub(crate) fn log(&mut self, level: Level, text: String) {
        let at_unix = self.have_snapshot.then(|| self.now_unix());
        self.log.push(LogEntry {
            at_unix,
            level,
            text,
        });
        if self.view == super::View::Log {
            let page = self.page_rows();
            self.log.list.scroll_into_view(page);
        }
        self.touch();
    }
}
