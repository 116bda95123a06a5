//! Applying the wizard: the commands it sends (create, or redefine and/or autostart), the
//! plan preview it waits for, and what it does with progress reports and results.

use super::network::{NetworkWizard, Outcome};
use crate::model::format_network_xml;
use crate::tui::data::{Command, CommandResult};

/// The plan the backend made for the review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preview {
    /// Not asked for.
    Idle,
    /// Asked with this request id.
    Waiting(u64),
    /// The plan text.
    Ready(String),
    /// Why there is none.
    Failed(String),
}

/// Applying the wizard's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyState {
    /// Not started.
    Idle,
    /// Running as request `id`; the steps reported so far.
    Running {
        /// Request id (0 until the App sent it).
        id: u64,
        /// Steps begun, oldest first.
        steps: Vec<String>,
    },
    /// Failed; the wizard stays open to fix and retry.
    Failed {
        /// The backend's words: failed step, kernel message, what was rolled back.
        message: String,
        /// Steps begun before the failure.
        steps: Vec<String>,
    },
}

/// What the App should do after a command's result reached the wizard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Not the wizard's command.
    NotMine,
    /// Taken in; the wizard stays.
    Kept,
    /// Done: close, with the backend's message.
    Close(String),
    /// The next command of an edit (autostart after the redefine).
    Send(Command),
}

impl NetworkWizard {
    /// The commands that apply the wizard: create, or redefine and/or autostart.
    pub fn commands(&self) -> Vec<Command> {
        let Some(def) = self.definition() else {
            return Vec::new();
        };
        let xml = format_network_xml(def);
        let autostart = self.draft().autostart;
        let Some(base) = &self.edit else {
            return vec![Command::CreateNetwork {
                xml,
                autostart,
                start: !self.draft().define_only,
            }];
        };
        let name = base.def.name.clone();
        let mut out = Vec::new();
        if *def != base.def {
            out.push(Command::EditNetwork {
                name: name.clone(),
                xml,
            });
        }
        if autostart != base.autostart {
            out.push(Command::SetAutostart(name, autostart));
        }
        out
    }

    pub(super) fn start_apply(&mut self) -> Outcome {
        if self.definition().is_none() {
            return Outcome::Notice("the definition has problems: Esc back and fix them".into());
        }
        let mut cmds = self.commands();
        if cmds.is_empty() {
            return Outcome::Close(Some("nothing changed".into()));
        }
        match &self.preview {
            Preview::Waiting(_) => {
                return Outcome::Notice("the plan is not there yet; a moment".into())
            }
            Preview::Failed(_) => {
                return Outcome::Notice(
                    "no plan could be made (see the review): Esc back and fix it".into(),
                )
            }
            _ => {}
        }
        let first = cmds.remove(0);
        self.queue = cmds;
        self.apply = ApplyState::Running {
            id: 0,
            steps: Vec::new(),
        };
        Outcome::Send(first)
    }

    /// The App sent `cmd` (from [`Outcome::Send`] or [`Resolution::Send`]) as request `id`,
    /// or could not (`None`: another command on the network is still running).
    pub fn sent(&mut self, cmd: &Command, id: Option<u64>) {
        match (cmd, id) {
            (Command::PreviewStart { .. }, Some(id)) => self.preview = Preview::Waiting(id),
            (Command::PreviewStart { .. }, None) => {
                self.preview = Preview::Failed("the plan could not be asked for".into())
            }
            (_, Some(new_id)) => {
                if let ApplyState::Running { id, .. } = &mut self.apply {
                    *id = new_id;
                }
            }
            (_, None) => {
                self.queue.clear();
                self.apply = ApplyState::Failed {
                    message:
                        "another command on this network is still running; try again in a moment"
                            .into(),
                    steps: Vec::new(),
                };
            }
        }
    }

    /// A running command of the wizard began a step.
    pub fn on_progress(&mut self, request: u64, step: &str) -> bool {
        match &mut self.apply {
            ApplyState::Running { id, steps } if *id == request => {
                steps.push(step.to_string());
                true
            }
            _ => false,
        }
    }

    /// A command finished; take its result if it is the wizard's.
    pub fn on_result(&mut self, result: &CommandResult) -> Resolution {
        if self.preview == Preview::Waiting(result.id) {
            self.preview = match result.ok {
                true => Preview::Ready(result.message.clone()),
                false => Preview::Failed(result.message.clone()),
            };
            return Resolution::Kept;
        }
        let ApplyState::Running { id, steps } = &mut self.apply else {
            return Resolution::NotMine;
        };
        if *id != result.id {
            return Resolution::NotMine;
        }
        if !result.ok {
            self.queue.clear();
            self.apply = ApplyState::Failed {
                message: result.message.clone(),
                steps: std::mem::take(steps),
            };
            return Resolution::Kept;
        }
        if self.queue.is_empty() {
            return Resolution::Close(result.message.clone());
        }
        Resolution::Send(self.queue.remove(0))
    }
}
