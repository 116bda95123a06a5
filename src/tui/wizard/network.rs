//! The network wizard (`n` new, `e` edit): four steps over one form, checked as it is typed,
//! a review with the definition and the backend's plan, and the apply in the background.
//! Pure state: keys in, [`Outcome`]s out; the App sends the commands.

use crossterm::event::KeyEvent;

use super::build::{form_for, new_draft, range_for, refresh_choices};
use super::check::{check, Checked};
use super::context::{Seed, WizardContext};
use super::draft::NetworkDraft;
use super::edit::{changes, draft_from_def, Change};
use super::field::{is_typing, Edit, FieldId, Form, Value};
use super::steps::{fields, step_of, Step};
use crate::model::{format_network_xml, NetworkDef};
use crate::tui::data::{Command, NetworkRow};
use crate::tui::keymap::{Action, Keymap, Scope};

pub use super::apply::{ApplyState, Preview, Resolution};

/// The network being edited, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditBase {
    /// Its stored definition.
    pub def: NetworkDef,
    /// Its autostart setting.
    pub autostart: bool,
    /// Whether it runs now (then a definition change applies live, or restarts it).
    pub active: bool,
    /// The guest ports on it now, as "vnet0 (web1)": put back on its bridge by a restart.
    pub ports: Vec<String>,
}

/// What the App should do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing beyond redrawing.
    Nothing,
    /// Close the wizard, with a message for the status line.
    Close(Option<String>),
    /// Send this command, then tell the wizard with [`NetworkWizard::sent`].
    Send(Command),
    /// Show this message in the status line; the wizard stays.
    Notice(String),
}

/// The new-network and edit wizard.
#[derive(Debug, Clone)]
pub struct NetworkWizard {
    pub(crate) form: Form,
    pub(crate) step: Step,
    pub(crate) focus: Option<FieldId>,
    attempted: [bool; 4],
    seed: Seed,
    pub(crate) checked: Checked,
    pub(crate) edit: Option<EditBase>,
    pub(crate) preview: Preview,
    pub(crate) apply: ApplyState,
    pub(super) queue: Vec<Command>,
    pub(crate) scroll: u16,
    range_follows: bool,
}

impl NetworkWizard {
    /// A wizard for a new network, pre-filled with free defaults.
    pub fn new(ctx: &WizardContext, seed: Seed) -> Self {
        Self::from_draft(&new_draft(ctx, seed), ctx, seed, None)
    }

    /// A wizard editing `row`'s definition, or why it cannot. `ports` are the guest ports on
    /// it now ("vnet0 (web1)"), named in the review when applying restarts its bridge.
    pub fn edit(
        row: &NetworkRow,
        ports: Vec<String>,
        ctx: &WizardContext,
        seed: Seed,
    ) -> Result<Self, String> {
        let def = row.def.as_deref().cloned().ok_or_else(|| {
            let why = row.error.as_deref().unwrap_or("unknown error");
            format!("{}: the stored definition cannot be read: {why}", row.name)
        })?;
        let draft =
            draft_from_def(&def, row.autostart).map_err(|e| format!("{}: {e}", row.name))?;
        let base = EditBase {
            def,
            autostart: row.autostart,
            active: row.active,
            ports,
        };
        Ok(Self::from_draft(&draft, ctx, seed, Some(base)))
    }

    fn from_draft(
        draft: &NetworkDraft,
        ctx: &WizardContext,
        seed: Seed,
        edit: Option<EditBase>,
    ) -> Self {
        let mut w = NetworkWizard {
            form: form_for(draft, ctx, edit.is_some()),
            step: Step::NameMode,
            focus: None,
            attempted: [false; 4],
            seed,
            checked: Checked::default(),
            edit,
            preview: Preview::Idle,
            apply: ApplyState::Idle,
            queue: Vec::new(),
            scroll: 0,
            range_follows: range_for(&draft.ipv4).as_deref() == Some(draft.dhcp_range.as_str()),
        };
        w.focus = w.first_editable();
        w.recheck(ctx);
        w
    }

    /// The current step.
    pub fn step(&self) -> Step {
        self.step
    }

    /// The field with focus.
    pub fn focused(&self) -> Option<FieldId> {
        self.focus
    }

    /// Whether this edits an existing network.
    pub fn editing(&self) -> Option<&EditBase> {
        self.edit.as_ref()
    }

    /// What the fields hold.
    pub fn draft(&self) -> NetworkDraft {
        NetworkDraft::from_form(&self.form)
    }

    /// The fields the current step shows.
    pub fn visible(&self) -> Vec<FieldId> {
        let d = self.draft();
        let mut shown = fields(self.step, d.mode, d.dhcp && d.has_ipv4(), d.ipv6);
        if self.edit.is_some() {
            // An edit applies to the network as it runs (or not): nothing to choose.
            shown.retain(|f| *f != FieldId::DefineOnly);
        }
        shown
    }

    /// The complete definition, when the draft has no problem.
    pub fn definition(&self) -> Option<&NetworkDef> {
        self.checked.def.as_ref()
    }

    /// The definition as XML, when there is one.
    pub fn xml(&self) -> Option<String> {
        self.definition().map(format_network_xml)
    }

    /// Every problem of the draft by field (shown or not yet).
    pub fn errors(&self) -> &std::collections::BTreeMap<FieldId, String> {
        &self.checked.errors
    }

    /// Problems no field owns.
    pub fn general_problems(&self) -> &[String] {
        &self.checked.general
    }

    /// The values a choice field `id` offers now (`None` for a field without choices).
    pub fn choices(&self, id: FieldId) -> Option<Vec<String>> {
        match &self.form.get(id)?.value {
            Value::Pick { choices, .. }
            | Value::List { choices, .. }
            | Value::Multi { choices, .. } => {
                Some(choices.iter().map(|c| c.value.clone()).collect())
            }
            _ => None,
        }
    }

    /// The error drawn beside `id`, if any.
    pub fn shown_error(&self, id: FieldId) -> Option<&str> {
        self.form.get(id).and_then(|f| f.error.as_deref())
    }

    /// The review's plan.
    pub fn preview(&self) -> &Preview {
        &self.preview
    }

    /// The apply's state.
    pub fn apply_state(&self) -> &ApplyState {
        &self.apply
    }

    /// How an edit would be applied to the running network (`None` for a new network, a
    /// network that is not running, or a draft with problems): the backend's own
    /// classification, so the review says exactly what applying does.
    pub fn live_change(&self) -> Option<crate::plan::change::Change> {
        let (base, def) = (self.edit.as_ref()?, self.definition()?);
        if !base.active {
            return None;
        }
        let paths = crate::plan::dnsmasq::DnsmasqPaths::new(
            std::path::Path::new("/run/switchyard/dnsmasq"),
            std::path::Path::new("/var/lib/switchyard"),
            &def.name,
        );
        crate::plan::change::classify(&base.def, def, &paths).ok()
    }

    /// What an edit changes (empty for a new network).
    pub fn changes(&self) -> Vec<Change> {
        match (&self.edit, self.definition()) {
            (Some(base), Some(def)) => {
                changes(&base.def, def, (base.autostart, self.draft().autostart))
            }
            _ => Vec::new(),
        }
    }

    /// Check the draft again (after a key, or when the host changed).
    /// The device choices follow `ctx` too (the App rebuilds it from each new snapshot), the
    /// current selections kept.
    pub fn recheck(&mut self, ctx: &WizardContext) {
        refresh_choices(&mut self.form, ctx);
        let base = self.edit.as_ref().map(|e| &e.def);
        self.checked = check(&self.draft(), ctx, self.seed, base);
        let attempted = self.attempted;
        for f in &mut self.form.fields {
            let shown = f.touched
                || attempted[step_of(f.id).index()]
                || matches!(&f.value, Value::Text { input, .. } if !input.value().is_empty())
                || matches!(
                    f.value,
                    Value::List { .. } | Value::Pick { .. } | Value::Toggle(_)
                );
            f.error = self.checked.errors.get(&f.id).filter(|_| shown).cloned();
        }
    }

    fn first_editable(&self) -> Option<FieldId> {
        let visible = self.visible();
        let editable = |id: &&FieldId| self.form.get(**id).is_some_and(|f| !f.read_only);
        visible.iter().find(editable).or(visible.first()).copied()
    }

    /// Handle a key.
    pub fn key(&mut self, key: &KeyEvent, keymap: &Keymap, ctx: &WizardContext) -> Outcome {
        if self.step == Step::Review {
            return self.review_key(key, keymap);
        }
        let text_focus = self
            .focus
            .and_then(|id| self.form.get(id))
            .is_some_and(|f| matches!(f.value, Value::Text { .. }) && !f.read_only);
        let action = keymap.lookup(&[Scope::Form, Scope::List], key);
        let action = if text_focus && is_typing(key) {
            None
        } else {
            action
        };
        match action {
            Some(Action::FieldNext) => self.move_focus(1, true),
            Some(Action::FieldPrev) => self.move_focus(-1, true),
            Some(Action::StepNext) => return self.advance(ctx),
            Some(Action::StepBack) => return self.back(),
            other => self.field_key(key, other, ctx),
        }
        Outcome::Nothing
    }

    fn field_key(&mut self, key: &KeyEvent, action: Option<Action>, ctx: &WizardContext) {
        let Some(field) = self.focus.and_then(|id| self.form.get_mut(id)) else {
            return;
        };
        let id = field.id;
        match field.key(key, action) {
            Edit::LeavePrev => self.move_focus(-1, false),
            Edit::LeaveNext => self.move_focus(1, false),
            Edit::Changed => self.changed(id, ctx),
            Edit::Moved | Edit::Ignored => {}
        }
    }

    fn changed(&mut self, id: FieldId, ctx: &WizardContext) {
        match id {
            FieldId::Ipv4 if self.range_follows => {
                if let Some(range) = range_for(&self.form.text(FieldId::Ipv4)) {
                    if let Some(f) = self.form.get_mut(FieldId::DhcpRange) {
                        f.set_text(&range);
                    }
                }
            }
            FieldId::DhcpRange => self.range_follows = false,
            _ => {}
        }
        self.recheck(ctx);
    }

    fn move_focus(&mut self, by: isize, wrap: bool) {
        let visible = self.visible();
        if visible.is_empty() {
            return;
        }
        let len = visible.len() as isize;
        let at = self
            .focus
            .and_then(|f| visible.iter().position(|v| *v == f))
            .unwrap_or(0) as isize;
        let next = if wrap {
            (at + by).rem_euclid(len)
        } else {
            (at + by).clamp(0, len - 1)
        };
        self.focus = Some(visible[next as usize]);
    }

    fn advance(&mut self, ctx: &WizardContext) -> Outcome {
        self.attempted[self.step.index()] = true;
        self.recheck(ctx);
        if let Some((step, id)) = self.first_error_upto(self.step) {
            self.step = step;
            self.focus = Some(id);
            return Outcome::Nothing;
        }
        self.step = self.step.next();
        self.focus = self.first_editable();
        self.scroll = 0;
        if self.step != Step::Review {
            return Outcome::Nothing;
        }
        self.apply = ApplyState::Idle;
        match self.xml() {
            Some(xml) => Outcome::Send(Command::PreviewStart { xml }),
            None => {
                self.preview = Preview::Idle;
                Outcome::Nothing
            }
        }
    }

    fn first_error_upto(&self, upto: Step) -> Option<(Step, FieldId)> {
        let d = self.draft();
        Step::ALL[..=upto.index()].iter().find_map(|s| {
            let shown = fields(*s, d.mode, d.dhcp && d.has_ipv4(), d.ipv6);
            shown
                .into_iter()
                .find(|id| self.checked.errors.contains_key(id))
                .map(|id| (*s, id))
        })
    }

    fn back(&mut self) -> Outcome {
        match self.step.prev() {
            None => Outcome::Close(None),
            Some(prev) => {
                self.step = prev;
                self.focus = self.first_editable();
                Outcome::Nothing
            }
        }
    }

    fn review_key(&mut self, key: &KeyEvent, keymap: &Keymap) -> Outcome {
        if matches!(self.apply, ApplyState::Running { .. }) {
            return Outcome::Nothing;
        }
        let page = 10;
        match keymap.lookup(&[Scope::Review, Scope::List], key) {
            Some(Action::Apply) => return self.start_apply(),
            Some(Action::ReviewBack) => {
                self.step = Step::Options;
                self.focus = self.first_editable();
                self.apply = ApplyState::Idle;
            }
            Some(Action::Up) => self.scroll = self.scroll.saturating_sub(1),
            Some(Action::Down) => self.scroll = self.scroll.saturating_add(1),
            Some(Action::PageUp) => self.scroll = self.scroll.saturating_sub(page),
            Some(Action::PageDown) => self.scroll = self.scroll.saturating_add(page),
            Some(Action::First) => self.scroll = 0,
            Some(Action::Last) => self.scroll = u16::MAX,
            _ => {}
        }
        Outcome::Nothing
    }
}
