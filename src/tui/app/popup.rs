//! The popup stack: keys go to the top popup first. Confirmations (intent → confirm →
//! execute), help, the port detail, the filter editor, the network wizard and the macvtap
//! form live here.

use crossterm::event::{Event as CtEvent, KeyEvent};
use tui_input::backend::crossterm::to_input_request;

use super::forwards::ForwardTestView;
use super::App;
use crate::telemetry::PortKey;
use crate::tui::data::Command;
use crate::tui::event::Effect;
use crate::tui::keymap::{Action, Scope};
use crate::tui::wizard::{AttachForm, ForwardForm, NetworkWizard};

/// A question before a dangerous command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    /// Popup title.
    pub title: String,
    /// What will happen, one line each.
    pub lines: Vec<String>,
    /// The command sent on "yes".
    pub command: Command,
}

/// Where to move a guest port: the other running networks with a bridge of their own, one of
/// them picked; nothing moves until confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovePort {
    /// The port's interface name.
    pub ifname: String,
    /// The guest behind it, if known.
    pub guest: Option<String>,
    /// The network it is on.
    pub from: String,
    /// Networks it can move to, by name.
    pub choices: Vec<String>,
    /// Index of the picked one in `choices`.
    pub selected: usize,
}

/// Something drawn over the views that takes keys first.
#[derive(Debug, Clone)]
pub enum Popup {
    /// Asks before running a command.
    Confirm(Confirm),
    /// Picks the network a port moves to, and asks.
    MovePort(MovePort),
    /// The key bindings.
    Help {
        /// First line shown.
        scroll: u16,
    },
    /// One port's detail with traffic charts.
    PortDetail {
        /// The port.
        key: PortKey,
        /// Its name when the popup opened, for the title once the port is gone (while it is
        /// there, the title reads the port's row: a renamed port shows its new name).
        name: String,
    },
    /// Typing the filter of the current view's table (ports, leases).
    Filter,
    /// One log entry in full (by its index in the log).
    LogEntry(usize),
    /// The network wizard (new or edit).
    Wizard(Box<NetworkWizard>),
    /// The macvtap attachment form.
    Attach(Box<AttachForm>),
    /// The port forward form.
    Forward(Box<ForwardForm>),
    /// A forward's self-test: running, its report, or why it could not run.
    ForwardTest(ForwardTestView),
    /// `why`: the form, the trace running, its report, the fix asked about or running.
    Why(Box<super::why::WhyPopup>),
}

impl App {
    /// Open a popup on top of the others.
    pub(crate) fn push_popup(&mut self, popup: Popup) {
        self.popups.push(popup);
        self.touch();
    }

    fn pop_popup(&mut self) -> Option<Popup> {
        self.touch();
        self.popups.pop()
    }

    /// Route a key to the top popup. Popups are modal: keys they do not use are ignored.
    pub(crate) fn popup_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if matches!(
            self.popups.last(),
            Some(Popup::Wizard(_) | Popup::Attach(_) | Popup::Forward(_))
        ) {
            return self.form_key(key);
        }
        if matches!(self.popups.last(), Some(Popup::Why(_))) {
            return self.why_key(key);
        }
        let Some(top) = self.popups.last().cloned() else {
            return vec![];
        };
        let keymap = &self.settings.keymap;
        match top {
            Popup::Confirm(confirm) => match keymap.lookup(&[Scope::Confirm], &key) {
                Some(Action::Confirm) => {
                    self.pop_popup();
                    self.issue(confirm.command)
                }
                Some(Action::Cancel) => {
                    self.pop_popup();
                    vec![]
                }
                _ => vec![],
            },
            Popup::MovePort(mv) => {
                let step = match keymap.lookup(&[Scope::Confirm, Scope::List], &key) {
                    Some(Action::Confirm) => {
                        self.pop_popup();
                        let network = mv.choices[mv.selected].clone();
                        return self.issue(Command::MovePort {
                            ifname: mv.ifname,
                            network,
                        });
                    }
                    Some(Action::Cancel) => {
                        self.pop_popup();
                        return vec![];
                    }
                    Some(Action::Up) => mv.choices.len() - 1,
                    Some(Action::Down) => 1,
                    _ => return vec![],
                };
                if let Some(Popup::MovePort(top)) = self.popups.last_mut() {
                    top.selected = (top.selected + step) % top.choices.len();
                }
                self.touch();
                vec![]
            }
            Popup::Filter => self.filter_key(key),
            Popup::Help { scroll } => {
                let action = keymap.lookup(&[Scope::Popup, Scope::List], &key);
                let help = keymap.lookup(&[Scope::Global], &key) == Some(Action::Help);
                match action {
                    _ if help => {
                        self.pop_popup();
                    }
                    Some(Action::Close) => {
                        self.pop_popup();
                    }
                    Some(a) => self.scroll_help(scroll, a),
                    None => {}
                }
                vec![]
            }
            Popup::LogEntry(_) => {
                let action = keymap.lookup(&[Scope::Popup], &key);
                let enter = keymap.lookup(&[Scope::Log], &key) == Some(Action::OpenEntry);
                if action == Some(Action::Close) || enter {
                    self.pop_popup();
                }
                vec![]
            }
            Popup::PortDetail { .. } => {
                let action = keymap.lookup(&[Scope::Popup], &key);
                let enter = keymap.lookup(&[Scope::Ports], &key) == Some(Action::OpenDetail);
                if action == Some(Action::Close) || enter {
                    self.pop_popup();
                }
                vec![]
            }
            Popup::ForwardTest(_) => {
                if keymap.lookup(&[Scope::Popup], &key) == Some(Action::Close) {
                    self.pop_popup();
                }
                vec![]
            }
            // Routed to `form_key` and `why_key` above.
            Popup::Wizard(_) | Popup::Attach(_) | Popup::Forward(_) | Popup::Why(_) => vec![],
        }
    }

    /// Scroll the help popup by one action's worth.
    pub(crate) fn popup_scroll(&mut self, action: Action) {
        if let Some(Popup::Help { scroll }) = self.popups.last() {
            self.scroll_help(*scroll, action);
        }
    }

    fn scroll_help(&mut self, scroll: u16, action: Action) {
        let page = self.size.1.saturating_sub(6).max(1);
        let next = match action {
            Action::Up => scroll.saturating_sub(1),
            Action::Down => scroll.saturating_add(1),
            Action::PageUp => scroll.saturating_sub(page),
            Action::PageDown => scroll.saturating_add(page),
            Action::First => 0,
            Action::Last => u16::MAX,
            _ => scroll,
        };
        // The popup's inner height (the body less its margin and borders): the last page
        // ends at the last line.
        let inner = self.size.1.saturating_sub(4 + 2).max(1);
        let max = (self.help_lines() as u16).saturating_sub(inner);
        if let Some(Popup::Help { scroll }) = self.popups.last_mut() {
            *scroll = next.min(max);
        }
        self.touch();
    }

    /// Number of lines of the help text, for scrolling limits.
    pub(crate) fn help_lines(&self) -> usize {
        self.settings
            .keymap
            .help()
            .iter()
            .map(|(_, lines)| lines.len() + 2)
            .sum()
    }

    fn filter_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        match self.settings.keymap.lookup(&[Scope::Filter], &key) {
            Some(Action::FilterApply) => {
                self.pop_popup();
            }
            Some(Action::FilterClear) => {
                if let Some(filter) = self.filter_input() {
                    filter.reset();
                }
                self.pop_popup();
                self.refresh_table(true);
            }
            _ => {
                let changed = to_input_request(&CtEvent::Key(key))
                    .zip(self.filter_input())
                    .and_then(|(req, filter)| filter.handle(req))
                    .is_some_and(|c| c.value);
                if changed {
                    self.refresh_table(false);
                }
                self.touch();
            }
        }
        vec![]
    }
}
