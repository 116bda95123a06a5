//! The macvtap attachment form (`m`): which macvtap network (its mode and NIC pool come with
//! it), the interface name and the guest's MAC; then the backend's answer with the
//! `/dev/tapN` device and a QEMU `-netdev` line to copy.

use crossterm::event::KeyEvent;

use super::context::{Seed, WizardContext};
use super::field::{Choice, Field, FieldId, Form, FormKey, Value};
use super::steps::TapMode;
use crate::model::defaults::random_mac;
use crate::model::validate::ifname_problem;
use crate::model::{ForwardMode, MacAddr, NetworkDef};
use crate::tui::data::{Command, CommandResult};
use crate::tui::keymap::{Action, Keymap, Scope};

/// One macvtap network the form can attach to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapNetwork {
    /// Network name.
    pub name: String,
    /// Its macvtap mode.
    pub mode: TapMode,
    /// Its NICs.
    pub pool: Vec<String>,
}

impl TapNetwork {
    fn of(def: &NetworkDef) -> Option<Self> {
        if !def.is_macvtap() {
            return None;
        }
        let mode = match def.mode()? {
            ForwardMode::Vepa => TapMode::Vepa,
            ForwardMode::Private => TapMode::Private,
            ForwardMode::Passthrough => TapMode::Passthrough,
            _ => TapMode::Bridge,
        };
        let pool = def
            .forward
            .iter()
            .flat_map(|f| f.interfaces.clone())
            .collect();
        Some(TapNetwork {
            name: def.name.clone(),
            mode,
            pool,
        })
    }
}

/// Where the attachment stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachState {
    /// Being filled in.
    Editing,
    /// Sent as this request.
    Running(u64),
    /// Made: the backend's message (device, QEMU line).
    Done(String),
    /// Failed: why.
    Failed(String),
}

/// What the App should do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachOutcome {
    /// Nothing beyond redrawing.
    Nothing,
    /// Close the form.
    Close,
    /// Send this command, then tell the form with [`AttachForm::sent`].
    Send(Command),
}

/// The macvtap attachment form.
#[derive(Debug, Clone)]
pub struct AttachForm {
    pub(crate) form: Form,
    pub(crate) focus: FieldId,
    pub(crate) networks: Vec<TapNetwork>,
    pub(crate) state: AttachState,
    attempted: bool,
    /// How far the result's QEMU line is scrolled left, in characters: the line is shown
    /// whole on one row, never wrapped, so it can be copied as one line at 80 columns.
    qemu_scroll: usize,
}

/// What the result's QEMU line starts with (the backend's message, see `live::commands`).
pub const QEMU_PREFIX: &str = "qemu: ";

/// Characters one ←/→ scrolls the QEMU line.
const QEMU_STEP: usize = 16;

const FIELDS: [FieldId; 3] = [FieldId::Network, FieldId::IfName, FieldId::Mac];

impl AttachForm {
    /// A form over the macvtap networks of `ctx`, `preferred` chosen if it is one; `None`
    /// when no macvtap network is defined.
    pub fn new(ctx: &WizardContext, preferred: Option<&str>, seed: Seed) -> Option<Self> {
        let networks: Vec<TapNetwork> = ctx.others.iter().filter_map(TapNetwork::of).collect();
        if networks.is_empty() {
            return None;
        }
        let choices: Vec<Choice> = networks
            .iter()
            .map(|n| {
                Choice::new(
                    &n.name,
                    &n.name,
                    &format!("{} on {}", n.mode.label(), n.pool.join(", ")),
                )
            })
            .collect();
        let selected = networks
            .iter()
            .position(|n| Some(n.name.as_str()) == preferred)
            .unwrap_or(0);
        let mac = random_mac(&mut seed.rand()).to_string();
        let fields = vec![
            Field::with(
                FieldId::Network,
                "Network",
                Value::Pick { choices, selected },
            )
            .hint("the macvtap network; ←/→ to choose"),
            Field::text(FieldId::IfName, "Interface", "", "automatic (macvtapN)")
                .hint("name of the new macvtap link, at most 15 characters"),
            Field::text(FieldId::Mac, "Guest MAC", &mac, "automatic")
                .hint("the guest's MAC; give the same one to QEMU"),
        ];
        let mut form = AttachForm {
            form: Form { fields },
            focus: FieldId::Network,
            networks,
            state: AttachState::Editing,
            attempted: false,
            qemu_scroll: 0,
        };
        form.recheck(ctx);
        Some(form)
    }

    /// The chosen network.
    pub fn network(&self) -> Option<&TapNetwork> {
        let name = self.form.text(FieldId::Network);
        self.networks.iter().find(|n| n.name == name)
    }

    /// Where the form stands.
    pub fn state(&self) -> &AttachState {
        &self.state
    }

    /// The QEMU line of a made attachment, without its `qemu: ` label.
    pub fn qemu_line(&self) -> Option<&str> {
        match &self.state {
            AttachState::Done(msg) => msg.lines().find_map(|l| l.strip_prefix(QEMU_PREFIX)),
            _ => None,
        }
    }

    /// How far the QEMU line is scrolled left, in characters.
    pub fn qemu_scroll(&self) -> usize {
        self.qemu_scroll
    }

    /// The field with focus.
    pub fn focused(&self) -> FieldId {
        self.focus
    }

    /// The MAC as typed, if it is one.
    pub fn mac(&self) -> Option<MacAddr> {
        self.form.text(FieldId::Mac).parse().ok()
    }

    /// The command the form would send, or the first field with a problem.
    pub fn command(&self) -> Result<Command, FieldId> {
        if let Some(bad) = FIELDS
            .iter()
            .find(|id| self.form.get(**id).is_some_and(|f| f.error.is_some()))
        {
            return Err(*bad);
        }
        let network = self.network().ok_or(FieldId::Network)?.name.clone();
        let opt = |id| Some(self.form.text(id)).filter(|s| !s.is_empty());
        Ok(Command::Attach {
            network,
            name: opt(FieldId::IfName),
            mac: opt(FieldId::Mac),
        })
    }

    /// Check every field as it is now.
    pub fn recheck(&mut self, ctx: &WizardContext) {
        let name = self.form.text(FieldId::IfName);
        let name_err = match name.as_str() {
            "" => None,
            n if ctx.host.ifnames.iter().any(|i| i == n) => {
                Some(format!("an interface named '{n}' already exists"))
            }
            n => ifname_problem(n),
        };
        let mac = self.form.text(FieldId::Mac);
        let mac_err = match mac.parse::<MacAddr>() {
            _ if mac.is_empty() => None,
            Err(e) => Some(e.to_string()),
            Ok(m) if m.is_multicast() || m.is_zero() => {
                Some(format!("{m} is not a unicast MAC a guest can use"))
            }
            Ok(_) => None,
        };
        let attempted = self.attempted;
        for (id, err) in [(FieldId::IfName, name_err), (FieldId::Mac, mac_err)] {
            if let Some(f) = self.form.get_mut(id) {
                f.error = err.filter(|_| attempted || f.touched || !f.is_empty_text());
            }
        }
    }

    /// Handle a key.
    pub fn key(&mut self, key: &KeyEvent, keymap: &Keymap, ctx: &WizardContext) -> AttachOutcome {
        let action = keymap.lookup(&[Scope::Form, Scope::List], key);
        match &self.state {
            AttachState::Running(_) => return AttachOutcome::Nothing,
            AttachState::Done(_) => {
                let close = matches!(action, Some(Action::StepBack | Action::StepNext));
                if close {
                    return AttachOutcome::Close;
                }
                // ←/→ (Home/End) scroll the one-line QEMU command.
                let last = self
                    .qemu_line()
                    .map_or(0, |l| l.chars().count().saturating_sub(1));
                self.qemu_scroll = match action {
                    Some(Action::ChoicePrev) => self.qemu_scroll.saturating_sub(QEMU_STEP),
                    Some(Action::ChoiceNext) => (self.qemu_scroll + QEMU_STEP).min(last),
                    Some(Action::First) => 0,
                    Some(Action::Last) => last,
                    _ => self.qemu_scroll,
                };
                return AttachOutcome::Nothing;
            }
            _ => {}
        }
        let text = self.focus != FieldId::Network;
        match self.form.route(&mut self.focus, &FIELDS, key, action, text) {
            FormKey::Back => return AttachOutcome::Close,
            FormKey::Submit => return self.submit(ctx),
            FormKey::Changed => {
                self.state = AttachState::Editing;
                self.recheck(ctx);
            }
            FormKey::Nothing => {}
        }
        AttachOutcome::Nothing
    }

    fn submit(&mut self, ctx: &WizardContext) -> AttachOutcome {
        self.attempted = true;
        self.recheck(ctx);
        match self.command() {
            Ok(cmd) => AttachOutcome::Send(cmd),
            Err(field) => {
                self.focus = field;
                AttachOutcome::Nothing
            }
        }
    }

    /// The App sent the command as `id` (or could not).
    pub fn sent(&mut self, id: Option<u64>) {
        self.state = match id {
            Some(id) => AttachState::Running(id),
            None => AttachState::Failed(
                "another command on this network is still running; try again in a moment".into(),
            ),
        };
    }

    /// Take a command's result if it is the form's.
    pub fn on_result(&mut self, result: &CommandResult) -> bool {
        if self.state != AttachState::Running(result.id) {
            return false;
        }
        self.state = match result.ok {
            true => AttachState::Done(result.message.clone()),
            false => AttachState::Failed(result.message.clone()),
        };
        true
    }
}
