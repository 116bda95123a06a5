//! Driving the network wizard and the macvtap form without a terminal: keys in, state out.
#![allow(dead_code)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use switchyard::model::{parse_network_xml, NetworkDef};
use switchyard::tui::keymap::Keymap;
use switchyard::tui::wizard::{
    AttachForm, AttachOutcome, FieldId, NetMode, NetworkWizard, Outcome, Seed, Step, TapMode,
    WizardContext,
};
use switchyard::tui::{Command, NetworkRow, Snapshot};

/// The simulated host's snapshot (`live::demo`: the real backend over `FakeHost`), taken once
/// per test binary.
pub fn snapshot() -> Snapshot {
    static SNAPSHOT: std::sync::OnceLock<Snapshot> = std::sync::OnceLock::new();
    SNAPSHOT
        .get_or_init(|| switchyard::live::demo::Demo::new().snapshot())
        .clone()
}

/// A key press without modifiers.
pub fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Ctrl + a letter.
pub fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// A wizard over a context, with the default keymap.
pub struct Driver {
    pub w: NetworkWizard,
    pub ctx: WizardContext,
    pub keymap: Keymap,
    /// The last outcome that was not `Nothing`.
    pub last: Outcome,
}

impl Driver {
    /// A new-network wizard over the simulated host.
    pub fn new() -> Self {
        Self::over(WizardContext::from_snapshot(&snapshot(), None))
    }

    /// A new-network wizard over `ctx`.
    pub fn over(ctx: WizardContext) -> Self {
        Driver {
            w: NetworkWizard::new(&ctx, Seed(42)),
            ctx,
            keymap: Keymap::default(),
            last: Outcome::Nothing,
        }
    }

    /// An edit wizard for `row` of `snap`.
    pub fn edit(snap: &Snapshot, row: &NetworkRow) -> Self {
        let ctx = WizardContext::from_snapshot(snap, Some(&row.name));
        Driver {
            w: NetworkWizard::edit(row, Vec::new(), &ctx, Seed(42)).expect("editable"),
            ctx,
            keymap: Keymap::default(),
            last: Outcome::Nothing,
        }
    }

    /// Press one key.
    pub fn key(&mut self, key: KeyEvent) -> Outcome {
        let out = self.w.key(&key, &self.keymap, &self.ctx);
        if out != Outcome::Nothing {
            self.last = out.clone();
        }
        out
    }

    pub fn code(&mut self, code: KeyCode) -> Outcome {
        self.key(press(code))
    }

    pub fn enter(&mut self) -> Outcome {
        self.code(KeyCode::Enter)
    }

    pub fn esc(&mut self) -> Outcome {
        self.code(KeyCode::Esc)
    }

    pub fn tab(&mut self) {
        self.code(KeyCode::Tab);
    }

    pub fn space(&mut self) {
        self.code(KeyCode::Char(' '));
    }

    pub fn type_str(&mut self, text: &str) {
        for c in text.chars() {
            self.code(KeyCode::Char(c));
        }
    }

    /// Tab until `id` has focus.
    pub fn focus(&mut self, id: FieldId) {
        for _ in 0..20 {
            if self.w.focused() == Some(id) {
                return;
            }
            self.tab();
        }
        panic!("{id:?} never got focus on {:?}", self.w.step());
    }

    /// Replace a text field's text: focus, Ctrl-U, type.
    pub fn set(&mut self, id: FieldId, text: &str) {
        self.focus(id);
        self.key(ctrl('u'));
        self.type_str(text);
    }

    /// Choose a network kind in step 1 (moving with ↑/↓ in the list).
    pub fn mode(&mut self, mode: NetMode) {
        self.focus(FieldId::Mode);
        let at = NetMode::ALL
            .iter()
            .position(|m| *m == self.w.draft().mode)
            .expect("mode");
        let to = NetMode::ALL.iter().position(|m| *m == mode).expect("mode");
        let code = if to > at { KeyCode::Down } else { KeyCode::Up };
        for _ in 0..at.abs_diff(to) {
            self.code(code);
        }
        assert_eq!(self.w.draft().mode, mode);
    }

    /// Choose a macvtap mode in step 2.
    pub fn tap_mode(&mut self, mode: TapMode) {
        self.focus(FieldId::TapMode);
        for _ in 0..4 {
            self.code(KeyCode::Up);
        }
        self.focus(FieldId::TapMode);
        let to = TapMode::ALL.iter().position(|m| *m == mode).expect("mode");
        for _ in 0..to {
            self.code(KeyCode::Down);
        }
        assert_eq!(self.w.draft().tap_mode, mode);
    }

    /// Enter until the review, asserting each step advances.
    pub fn go_to_review(&mut self) {
        while self.w.step() != Step::Review {
            let before = self.w.step();
            self.enter();
            assert_ne!(
                self.w.step(),
                before,
                "stuck on {before:?}: {:?}",
                self.w.errors()
            );
        }
    }

    /// The previewed XML (from the last `PreviewStart`), parsed.
    pub fn previewed(&self) -> NetworkDef {
        match &self.last {
            Outcome::Send(Command::PreviewStart { xml }) => parse_network_xml(xml).expect("parses"),
            other => panic!("no preview asked: {other:?}"),
        }
    }

    /// The error shown beside `id`.
    pub fn error(&self, id: FieldId) -> String {
        self.w
            .shown_error(id)
            .unwrap_or_else(|| panic!("no error on {id:?}; all: {:?}", self.w.errors()))
            .to_string()
    }
}

/// Send a key to the attach form.
pub fn attach_key(form: &mut AttachForm, ctx: &WizardContext, key: KeyEvent) -> AttachOutcome {
    form.key(&key, &Keymap::default(), ctx)
}
