//! `w` on a network: the `why` popup. The form (destination, protocol, direction) is sent as
//! [`Command::Why`]; its answer is drawn as a report (the verdict, the deciding chain, the
//! path, the fix). A fix switchyard may run is run only after a confirmation that shows its
//! exact commands ([`Command::ApplyWhyFix`]), and the report then shows the new verdict.

use crossterm::event::KeyEvent;

use super::log::Level;
use super::popup::Popup;
use super::App;
use crate::backend::{WhyOutcome, WhyRequest};
use crate::tui::data::{Command, CommandResult};
use crate::tui::event::Effect;
use crate::tui::keymap::{Action, Scope};
use crate::tui::wizard::why::{WhyForm, WhyFormOutcome};

/// Where the `why` popup stands.
#[derive(Debug, Clone)]
pub enum WhyPhase {
    /// The fields.
    Form(Box<WhyForm>),
    /// The trace was sent as this request.
    Tracing(u64),
    /// The answer (after a fix when `fixed`).
    Report {
        /// The backend's answer.
        outcome: Box<WhyOutcome>,
        /// The answer is the trace after a fix ran.
        fixed: bool,
    },
    /// Asking before the fix of `outcome` runs.
    Confirm(Box<WhyOutcome>),
    /// The fix of `outcome` was sent as this request.
    Applying(u64, Box<WhyOutcome>),
    /// The trace could not run, or the fix failed (then the report it came from is kept).
    Failed {
        /// The backend's words.
        message: String,
        /// The report whose fix failed.
        before: Option<Box<WhyOutcome>>,
    },
}

/// The `why` popup.
#[derive(Debug, Clone)]
pub struct WhyPopup {
    /// The network traced.
    pub network: String,
    /// What was traced last (none before the form is sent).
    pub request: Option<WhyRequest>,
    /// Where it stands.
    pub phase: WhyPhase,
    /// The first line of the report shown.
    pub scroll: u16,
}

impl WhyPopup {
    /// The report shown (also while its fix is asked about or runs), if any.
    pub fn outcome(&self) -> Option<&WhyOutcome> {
        match &self.phase {
            WhyPhase::Report { outcome, .. }
            | WhyPhase::Confirm(outcome)
            | WhyPhase::Applying(_, outcome) => Some(outcome),
            WhyPhase::Failed { before, .. } => before.as_deref(),
            WhyPhase::Form(_) | WhyPhase::Tracing(_) => None,
        }
    }
}

impl App {
    /// `w`: the form for the selected network (it must run: the probe goes onto its bridge).
    pub(crate) fn open_why(&mut self) {
        let Some(net) = self.selected_network().cloned() else {
            self.notify(Level::Warn, "no network selected".into());
            return;
        };
        if !net.active {
            let text = format!("{}: not running; why traces a running network", net.name);
            self.notify(Level::Warn, text);
            return;
        }
        self.push_popup(Popup::Why(Box::new(WhyPopup {
            network: net.name.clone(),
            request: None,
            phase: WhyPhase::Form(Box::new(WhyForm::new(&net.name))),
            scroll: 0,
        })));
    }

    /// A key for the `why` popup on top.
    pub(crate) fn why_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        self.touch();
        let keymap = self.settings.keymap.clone();
        let Some(Popup::Why(w)) = self.popups.last_mut() else {
            return vec![];
        };
        match &mut w.phase {
            WhyPhase::Form(form) => match form.key(&key, &keymap) {
                WhyFormOutcome::Nothing => vec![],
                WhyFormOutcome::Close => {
                    self.popups.pop();
                    vec![]
                }
                WhyFormOutcome::Trace(request) => {
                    w.request = Some(request.clone());
                    self.send_why(Command::Why { request }, None)
                }
            },
            WhyPhase::Confirm(outcome) => match keymap.lookup(&[Scope::Confirm], &key) {
                Some(Action::Confirm) => {
                    let outcome = outcome.clone();
                    let Some(request) = w.request.clone() else {
                        return vec![];
                    };
                    let commands = outcome.report.fix.clone().unwrap_or_default().commands;
                    self.send_why(Command::ApplyWhyFix { request, commands }, Some(outcome))
                }
                Some(Action::Cancel) => {
                    w.phase = WhyPhase::Report {
                        outcome: outcome.clone(),
                        fixed: false,
                    };
                    vec![]
                }
                _ => vec![],
            },
            phase => {
                let action = keymap.lookup(&[Scope::Why, Scope::Popup, Scope::List], &key);
                let report = match phase {
                    WhyPhase::Report { outcome, .. } => Some(outcome.clone()),
                    _ => None,
                };
                let failed = matches!(phase, WhyPhase::Failed { .. });
                match action {
                    Some(Action::Close) => {
                        self.popups.pop();
                    }
                    Some(Action::WhyAgain) if report.is_some() || failed => {
                        if let Some(req) = &w.request {
                            w.phase = WhyPhase::Form(Box::new(WhyForm::from_request(req)));
                            w.scroll = 0;
                        }
                    }
                    Some(Action::WhyFix) => {
                        let Some(outcome) = report else {
                            return vec![];
                        };
                        match &outcome.report.fix {
                            Some(fix) if fix.runnable() => {
                                w.phase = WhyPhase::Confirm(outcome);
                            }
                            Some(fix) if fix.commands.is_empty() => self.notify(
                                Level::Info,
                                "nothing to run: the report says what to change".into(),
                            ),
                            Some(_) => self.notify(
                                Level::Warn,
                                "this fix is for you to run: switchyard runs only iptables, \
                                 ip6tables, ufw, firewall-cmd and nft commands"
                                    .into(),
                            ),
                            None => self.notify(Level::Info, "no fix to run".into()),
                        }
                    }
                    Some(a @ (Action::Up | Action::Down | Action::PageUp | Action::PageDown)) => {
                        // The report's lines depend on the width; this bounds the scroll
                        // near its end (the view stops at the last line).
                        let most = report
                            .as_ref()
                            .map_or(0, |o| o.report.path.len() * 2 + o.notes.len() * 3 + 12);
                        w.scroll = match a {
                            Action::Up => w.scroll.saturating_sub(1),
                            Action::Down => w.scroll.saturating_add(1),
                            Action::PageUp => w.scroll.saturating_sub(10),
                            _ => w.scroll.saturating_add(10),
                        }
                        .min(u16::try_from(most).unwrap_or(u16::MAX));
                    }
                    Some(Action::First) => w.scroll = 0,
                    _ => {}
                }
                vec![]
            }
        }
    }

    /// Send a `why` command for the popup on top; it shows "tracing…" (or the fix running
    /// over `before`) until the result comes.
    fn send_why(&mut self, cmd: Command, before: Option<Box<WhyOutcome>>) -> Vec<Effect> {
        let effects = self.issue(cmd);
        let id = Effect::executed_id(&effects);
        if let (Some(id), Some(Popup::Why(w))) = (id, self.popups.last_mut()) {
            w.scroll = 0;
            w.phase = match before {
                Some(outcome) => WhyPhase::Applying(id, outcome),
                None => WhyPhase::Tracing(id),
            };
        }
        effects
    }

    /// Hand a result to the `why` popup that sent it; whether it took it.
    pub(crate) fn why_on_result(&mut self, result: &CommandResult) -> bool {
        for popup in &mut self.popups {
            let Popup::Why(w) = popup else { continue };
            let (id, before, fixing) = match &w.phase {
                WhyPhase::Tracing(id) => (*id, None, false),
                WhyPhase::Applying(id, before) => (*id, Some(before.clone()), true),
                _ => continue,
            };
            if id != result.id {
                continue;
            }
            w.scroll = 0;
            w.phase = match (&result.why, result.ok) {
                (Some(outcome), true) => WhyPhase::Report {
                    outcome: outcome.clone(),
                    fixed: fixing,
                },
                _ => WhyPhase::Failed {
                    message: result.message.clone(),
                    before,
                },
            };
            self.touch();
            return true;
        }
        false
    }
}
