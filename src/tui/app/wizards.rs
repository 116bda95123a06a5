//! The App's side of the wizards: opening them from the views, routing keys to them, sending
//! the commands they ask for, and handing them progress and results.

use crossterm::event::KeyEvent;

use super::log::Level;
use super::popup::Popup;
use super::App;
use crate::tui::data::{Command, CommandResult};
use crate::tui::event::Effect;
use crate::tui::keymap::Action;
use crate::tui::wizard::{
    pin_confirm, ApplyState, AttachForm, AttachOutcome, NetworkWizard, Outcome, Resolution, Seed,
    WizardContext,
};

impl App {
    /// What forms know of the host and the other networks, from the current snapshot: built
    /// when a form opens or a snapshot arrives, then kept (keys do not rebuild it).
    pub(crate) fn wizard_context(&mut self, editing: Option<&str>) -> &WizardContext {
        let fresh = self
            .form_ctx
            .as_ref()
            .is_some_and(|(e, _)| e.as_deref() == editing);
        if !fresh {
            let ctx = WizardContext::from_snapshot(&self.snap, editing);
            self.form_ctx = Some((editing.map(str::to_owned), ctx));
        }
        &self.form_ctx.get_or_insert_with(Default::default).1
    }

    /// A seed for a new form's generated values: different for every form, repeatable for
    /// the same sequence of events.
    fn next_seed(&mut self) -> Seed {
        self.forms_opened += 1;
        let salt = self.forms_opened.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        Seed(self.snap.now_unix.rotate_left(20) ^ self.tick ^ salt)
    }

    pub(crate) fn open_new_network(&mut self) {
        let seed = self.next_seed();
        let wizard = NetworkWizard::new(self.wizard_context(None), seed);
        self.push_popup(Popup::Wizard(Box::new(wizard)));
    }

    pub(crate) fn open_edit_network(&mut self) {
        let Some(row) = self.selected_network().cloned() else {
            self.notify(Level::Warn, "no network selected".into());
            return;
        };
        let seed = self.next_seed();
        let ports = self.port_names_of(&row.name);
        let ctx = self.wizard_context(Some(&row.name));
        match NetworkWizard::edit(&row, ports, ctx, seed) {
            Ok(wizard) => self.push_popup(Popup::Wizard(Box::new(wizard))),
            Err(why) => self.notify(Level::Warn, why),
        }
    }

    pub(crate) fn open_attach(&mut self) {
        let preferred = self.selected_network().map(|n| n.name.clone());
        let seed = self.next_seed();
        match AttachForm::new(self.wizard_context(None), preferred.as_deref(), seed) {
            Some(form) => self.push_popup(Popup::Attach(Box::new(form))),
            None => {
                let key = self.settings.keymap.key_label(Action::NewNetwork);
                let text =
                    format!("no macvtap network is defined: create one with {key}, mode Macvtap");
                self.notify(Level::Warn, text);
            }
        }
    }

    pub(crate) fn ask_pin(&mut self) {
        let Some(lease) = self.selected_lease() else {
            self.notify(Level::Warn, "no lease selected".into());
            return;
        };
        let net = self.snap.networks.iter().find(|n| n.name == lease.network);
        match pin_confirm(lease, net) {
            Ok(confirm) => self.push_popup(Popup::Confirm(confirm)),
            Err(why) => self.notify(Level::Warn, why),
        }
    }

    /// A key for the wizard or form on top.
    pub(crate) fn form_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        self.touch();
        let editing = match self.popups.last() {
            Some(Popup::Wizard(w)) => w.editing().map(|e| e.def.name.clone()),
            _ => None,
        };
        self.wizard_context(editing.as_deref());
        let Some((_, ctx)) = &self.form_ctx else {
            return vec![];
        };
        let keymap = &self.settings.keymap;
        match self.popups.last_mut() {
            Some(Popup::Wizard(w)) => match w.key(&key, keymap, ctx) {
                Outcome::Nothing => vec![],
                Outcome::Close(message) => {
                    self.popups.pop();
                    if let Some(text) = message {
                        self.notify(Level::Info, text);
                    }
                    vec![]
                }
                Outcome::Notice(text) => {
                    self.notify(Level::Warn, text);
                    vec![]
                }
                Outcome::Send(cmd) => self.send_for_form(cmd),
            },
            Some(Popup::Forward(form)) => match form.key(&key, keymap) {
                crate::tui::wizard::ForwardOutcome::Nothing => vec![],
                crate::tui::wizard::ForwardOutcome::Close => {
                    self.popups.pop();
                    vec![]
                }
                crate::tui::wizard::ForwardOutcome::Send(cmd) => self.send_for_form(cmd),
            },
            Some(Popup::Attach(form)) => match form.key(&key, keymap, ctx) {
                AttachOutcome::Nothing => vec![],
                AttachOutcome::Close => {
                    self.popups.pop();
                    vec![]
                }
                AttachOutcome::Send(cmd) => self.send_for_form(cmd),
            },
            _ => vec![],
        }
    }

    /// Send a form's command and tell the form its request id (or that it was refused).
    fn send_for_form(&mut self, cmd: Command) -> Vec<Effect> {
        let effects = self.issue(cmd.clone());
        let id = Effect::executed_id(&effects);
        match self.popups.last_mut() {
            Some(Popup::Wizard(w)) => w.sent(&cmd, id),
            Some(Popup::Attach(f)) => f.sent(id),
            Some(Popup::Forward(f)) => f.sent(id),
            _ => {}
        }
        effects
    }

    /// A step of a running command began. A command that reports steps is alive: its
    /// timeout starts again.
    pub(crate) fn on_progress(&mut self, id: u64, step: String) {
        for popup in &mut self.popups {
            if let Popup::Wizard(w) = popup {
                w.on_progress(id, &step);
            }
        }
        if let Some(p) = self.pending.get_mut(&id) {
            p.step = Some(step);
            p.since_tick = self.tick;
            self.touch();
        }
    }

    /// Hand a result to the form that sent the command, if one did.
    pub(crate) fn forms_on_result(&mut self, result: &CommandResult) -> Vec<Effect> {
        let mut next = None;
        let mut done = None;
        for (i, popup) in self.popups.iter_mut().enumerate().rev() {
            match popup {
                Popup::Wizard(w) => match w.on_result(result) {
                    Resolution::NotMine => continue,
                    Resolution::Kept => {}
                    Resolution::Close(_) => {
                        done = Some((i, w.editing().is_none().then(|| w.draft().name)))
                    }
                    Resolution::Send(cmd) => next = Some(cmd),
                },
                Popup::Attach(f) => {
                    if !f.on_result(result) {
                        continue;
                    }
                }
                _ => continue,
            }
            self.touch();
            break;
        }
        if let Some((i, created)) = done {
            self.popups.remove(i);
            self.select_after = created;
        }
        match next {
            Some(cmd) => self.send_for_form(cmd),
            None => vec![],
        }
    }

    /// The host changed: check open forms against it again (not while one is applying).
    pub(crate) fn refresh_forms(&mut self) {
        self.form_ctx = None;
        if !self
            .popups
            .iter()
            .any(|p| matches!(p, Popup::Wizard(_) | Popup::Attach(_)))
        {
            return;
        }
        let mut popups = std::mem::take(&mut self.popups);
        for popup in &mut popups {
            match popup {
                Popup::Wizard(w) if !matches!(w.apply_state(), ApplyState::Running { .. }) => {
                    let editing = w.editing().map(|e| e.def.name.clone());
                    w.recheck(self.wizard_context(editing.as_deref()));
                }
                Popup::Attach(f) => f.recheck(self.wizard_context(None)),
                _ => {}
            }
        }
        self.popups = popups;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::live::demo::Demo;
    use crate::tui::app::Settings;
    use crate::tui::event::Event;

    /// Where the cached context's list of other networks lives: a rebuilt context is a new one.
    /// (Built before the old one is dropped, so it cannot reuse its allocation.)
    fn ctx_id(app: &App) -> Option<*const crate::model::NetworkDef> {
        app.form_ctx.as_ref().map(|(_, c)| c.others.as_ptr())
    }

    #[test]
    fn the_context_is_built_when_a_form_opens_and_a_snapshot_arrives_not_per_key() {
        let mut demo = Demo::new();
        let mut app = App::new(Settings::default(), (120, 40));
        app.update(Event::Snapshot(Arc::new(demo.snapshot())));
        app.open_new_network();
        let built = ctx_id(&app);
        assert!(built.is_some(), "built when the wizard opened");
        for c in "lab".chars() {
            app.form_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        assert_eq!(ctx_id(&app), built, "keys reuse it");
        app.update(Event::Snapshot(Arc::new(demo.snapshot())));
        let now = WizardContext::from_snapshot(&app.snap, None);
        assert_eq!(
            app.form_ctx.as_ref().map(|(_, c)| c),
            Some(&now),
            "a new snapshot rebuilds it"
        );
    }
}
