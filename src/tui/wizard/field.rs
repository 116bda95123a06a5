//! Form fields: `tui-input` text fields, checkboxes, inline choices, radio lists and
//! checklists, each with its own error shown beside it. Keys reach a field only after the
//! form took the ones that move between fields and steps.

use crossterm::event::{Event as CtEvent, KeyCode, KeyEvent, KeyModifiers};
use tui_input::backend::crossterm::to_input_request;
use tui_input::{Input, InputRequest};

use crate::tui::keymap::Action;

/// Every field any form has; a form's errors are keyed by these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldId {
    /// Network name.
    Name,
    /// Network mode.
    Mode,
    /// IPv4 gateway address with prefix.
    Ipv4,
    /// DHCP on/off.
    Dhcp,
    /// DHCP range `START-END`.
    DhcpRange,
    /// IPv6 on/off.
    Ipv6,
    /// IPv6 gateway address with prefix.
    Ipv6Prefix,
    /// Outgoing device of a NAT or routed network.
    ForwardDev,
    /// Existing host bridge of a bridged network.
    HostBridge,
    /// NICs of a macvtap pool.
    Devices,
    /// macvtap mode.
    TapMode,
    /// Own bridge name.
    BridgeName,
    /// DNS domain.
    Domain,
    /// Start at boot.
    Autostart,
    /// Define the network without starting it now.
    DefineOnly,
    /// Spanning tree on the own bridge.
    Stp,
    /// MTU in bytes.
    Mtu,
    /// The macvtap network to attach to.
    Network,
    /// Interface name of a macvtap.
    IfName,
    /// Guest MAC address.
    Mac,
    /// A forward's protocol.
    Proto,
    /// A forward's host port or range.
    HostPort,
    /// A forward's target: a pinned or leased guest, or an address.
    Target,
    /// A forward's target address, typed.
    TargetAddr,
    /// A forward's target port or range.
    TargetPort,
    /// A forward's host (listen) address.
    Listen,
    /// A forward's comment.
    Comment,
    /// `why`'s destination: `ADDR[:PORT]`.
    Destination,
    /// `why`'s direction: outbound from a guest, or inbound toward one.
    Direction,
}

/// One entry of a choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// What the draft gets.
    pub value: String,
    /// What the operator sees.
    pub label: String,
    /// A short explanation drawn after the label.
    pub note: String,
}

impl Choice {
    /// An entry whose label is its value.
    pub fn plain(value: &str) -> Self {
        Self::new(value, value, "")
    }

    /// An entry with a label and a note.
    pub fn new(value: &str, label: &str, note: &str) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
            note: note.into(),
        }
    }
}

/// What a field holds.
#[derive(Debug, Clone)]
pub enum Value {
    /// Free text, edited with the usual line-editing keys.
    Text {
        /// The text and cursor.
        input: Input,
        /// Shown dimmed while the text is empty.
        placeholder: String,
    },
    /// On or off.
    Toggle(bool),
    /// One of a few, drawn on one line: `‹ eth0 ›`.
    Pick {
        /// The entries.
        choices: Vec<Choice>,
        /// The chosen one.
        selected: usize,
    },
    /// One of several, drawn one per line with explanations.
    List {
        /// The entries.
        choices: Vec<Choice>,
        /// The chosen one.
        selected: usize,
    },
    /// Any of several, drawn as a checklist.
    Multi {
        /// The entries.
        choices: Vec<Choice>,
        /// Which are checked.
        checked: Vec<bool>,
        /// The entry the cursor is on.
        cursor: usize,
    },
}

/// A field: label, value, and the error the last check found in it.
#[derive(Debug, Clone)]
pub struct Field {
    /// Which field.
    pub id: FieldId,
    /// Label drawn before the value.
    pub label: &'static str,
    /// The value.
    pub value: Value,
    /// One line of help shown while the field has focus.
    pub hint: String,
    /// The problem found by the last check.
    pub error: Option<String>,
    /// Whether the operator changed it (its error shows from then on).
    pub touched: bool,
    /// Shown but not editable (the name while editing).
    pub read_only: bool,
}

/// What a key did to a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// The value changed.
    Changed,
    /// Only the cursor or the list position moved.
    Moved,
    /// Leave to the previous field.
    LeavePrev,
    /// Leave to the next field.
    LeaveNext,
    /// The key means nothing here.
    Ignored,
}

/// Keys that type into a text field rather than trigger an action: characters without
/// Control or Alt.
pub fn is_typing(key: &KeyEvent) -> bool {
    matches!(key.code, KeyCode::Char(_)) && (key.modifiers - KeyModifiers::SHIFT).is_empty()
}

impl Field {
    /// A text field.
    pub fn text(id: FieldId, label: &'static str, value: &str, placeholder: &str) -> Self {
        let value = Value::Text {
            input: Input::new(value.to_string()),
            placeholder: placeholder.into(),
        };
        Self::with(id, label, value)
    }

    /// A field holding `value`.
    pub fn with(id: FieldId, label: &'static str, value: Value) -> Self {
        Self {
            id,
            label,
            value,
            hint: String::new(),
            error: None,
            touched: false,
            read_only: false,
        }
    }

    /// The same field with a hint line.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }

    /// The text of a text field; the chosen value of a choice; "" otherwise.
    pub fn text_value(&self) -> &str {
        match &self.value {
            Value::Text { input, .. } => input.value(),
            Value::Pick { choices, selected } | Value::List { choices, selected } => {
                choices.get(*selected).map_or("", |c| c.value.as_str())
            }
            _ => "",
        }
    }

    /// Whether a text field is empty.
    pub fn is_empty_text(&self) -> bool {
        matches!(&self.value, Value::Text { input, .. } if input.value().is_empty())
    }

    /// Replace a text field's text (cursor at the end).
    pub fn set_text(&mut self, text: &str) {
        if let Value::Text { input, .. } = &mut self.value {
            *input = Input::new(text.to_string());
        }
    }

    /// Handle a key the form passed on; `action` is what the keymap calls it.
    pub fn key(&mut self, key: &KeyEvent, action: Option<Action>) -> Edit {
        if self.read_only {
            return leave(action).unwrap_or(Edit::Ignored);
        }
        let edit = match &mut self.value {
            Value::Text { input, .. } => text_key(input, key, action),
            Value::Toggle(on) => match action {
                Some(Action::FieldToggle | Action::ChoicePrev | Action::ChoiceNext) => {
                    *on = !*on;
                    Edit::Changed
                }
                other => leave(other).unwrap_or(Edit::Ignored),
            },
            Value::Pick { choices, selected } => pick_key(choices.len(), selected, action),
            Value::List { choices, selected } => list_key(choices.len(), selected, action),
            Value::Multi {
                choices,
                checked,
                cursor,
            } => multi_key(choices.len(), checked, cursor, action),
        };
        if edit == Edit::Changed {
            self.touched = true;
        }
        edit
    }
}

fn leave(action: Option<Action>) -> Option<Edit> {
    match action {
        Some(Action::Up) => Some(Edit::LeavePrev),
        Some(Action::Down) => Some(Edit::LeaveNext),
        _ => None,
    }
}

fn text_key(input: &mut Input, key: &KeyEvent, action: Option<Action>) -> Edit {
    let request = match action {
        _ if is_typing(key) => to_input_request(&CtEvent::Key(*key)),
        Some(Action::FieldClear) => Some(InputRequest::DeleteLine),
        Some(Action::FieldDeleteWord) => Some(InputRequest::DeletePrevWord),
        Some(Action::Up) => return Edit::LeavePrev,
        Some(Action::Down) => return Edit::LeaveNext,
        _ => to_input_request(&CtEvent::Key(*key)),
    };
    match request.and_then(|r| input.handle(r)) {
        Some(change) if change.value => Edit::Changed,
        Some(_) => Edit::Moved,
        None => Edit::Ignored,
    }
}

fn pick_key(len: usize, selected: &mut usize, action: Option<Action>) -> Edit {
    if len == 0 {
        return leave(action).unwrap_or(Edit::Ignored);
    }
    match action {
        Some(Action::ChoicePrev) => *selected = (*selected + len - 1) % len,
        Some(Action::ChoiceNext | Action::FieldToggle) => *selected = (*selected + 1) % len,
        other => return leave(other).unwrap_or(Edit::Ignored),
    }
    Edit::Changed
}

/// Moving in a radio list chooses; past either end leaves the field.
fn list_key(len: usize, selected: &mut usize, action: Option<Action>) -> Edit {
    match action {
        Some(Action::Up | Action::ChoicePrev) if *selected == 0 => Edit::LeavePrev,
        Some(Action::Down | Action::ChoiceNext) if *selected + 1 >= len => Edit::LeaveNext,
        Some(Action::Up | Action::ChoicePrev) => {
            *selected -= 1;
            Edit::Changed
        }
        Some(Action::Down | Action::ChoiceNext) => {
            *selected += 1;
            Edit::Changed
        }
        _ => Edit::Ignored,
    }
}

fn multi_key(len: usize, checked: &mut [bool], cursor: &mut usize, action: Option<Action>) -> Edit {
    match action {
        Some(Action::Up) if *cursor == 0 => Edit::LeavePrev,
        Some(Action::Down) if *cursor + 1 >= len => Edit::LeaveNext,
        Some(Action::Up) => {
            *cursor -= 1;
            Edit::Moved
        }
        Some(Action::Down) => {
            *cursor += 1;
            Edit::Moved
        }
        Some(Action::FieldToggle) => match checked.get_mut(*cursor) {
            Some(c) => {
                *c = !*c;
                Edit::Changed
            }
            None => Edit::Ignored,
        },
        _ => Edit::Ignored,
    }
}

/// A set of fields, looked up by id.
#[derive(Debug, Clone, Default)]
pub struct Form {
    /// The fields, in no particular order (steps decide what shows).
    pub fields: Vec<Field>,
}

/// What a key meant to a one-page form, once [`Form::route`] has done what every such form
/// does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKey {
    /// Back (Esc): leave the form.
    Back,
    /// On (Enter): check the form and go on if it is valid.
    Submit,
    /// The focused field's value changed: check it again.
    Changed,
    /// The focus or a cursor moved, or nothing happened.
    Nothing,
}

impl Form {
    /// The keys every one-page form shares: Back and Submit are the caller's; Tab, Shift-Tab
    /// and leaving a field at either end move `focus` along `order` (wrapping); any other key
    /// edits the focused field. In a text field (`text`), a typed character is text even where
    /// `action` binds it.
    pub fn route(
        &mut self,
        focus: &mut FieldId,
        order: &[FieldId],
        key: &KeyEvent,
        action: Option<Action>,
        text: bool,
    ) -> FormKey {
        let action = if text && is_typing(key) { None } else { action };
        let step = |focus: &mut FieldId, by: isize| {
            if order.is_empty() {
                return;
            }
            let at = order.iter().position(|f| f == focus).unwrap_or(0) as isize;
            *focus = order[(at + by).rem_euclid(order.len() as isize) as usize];
        };
        match action {
            Some(Action::StepBack) => return FormKey::Back,
            Some(Action::StepNext) => return FormKey::Submit,
            Some(Action::FieldNext) => step(focus, 1),
            Some(Action::FieldPrev) => step(focus, -1),
            other => {
                let Some(field) = self.get_mut(*focus) else {
                    return FormKey::Nothing;
                };
                match field.key(key, other) {
                    Edit::LeavePrev => step(focus, -1),
                    Edit::LeaveNext => step(focus, 1),
                    Edit::Changed => return FormKey::Changed,
                    _ => {}
                }
            }
        }
        FormKey::Nothing
    }

    /// Shows the first of `found` that names each field beside it, on fields touched (or on
    /// every field once the form was tried, `attempted`); clears the rest.
    pub fn show_errors(&mut self, found: &[(FieldId, String)], attempted: bool) {
        for f in &mut self.fields {
            let err = found
                .iter()
                .find(|(id, _)| *id == f.id)
                .map(|(_, m)| m.clone());
            f.error = err.filter(|_| attempted || f.touched);
        }
    }

    /// The field `id`.
    pub fn get(&self, id: FieldId) -> Option<&Field> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// The field `id`, to change.
    pub fn get_mut(&mut self, id: FieldId) -> Option<&mut Field> {
        self.fields.iter_mut().find(|f| f.id == id)
    }

    /// Text (or chosen value) of `id`, trimmed.
    pub fn text(&self, id: FieldId) -> String {
        self.get(id)
            .map_or(String::new(), |f| f.text_value().trim().to_string())
    }

    /// Whether the toggle `id` is on.
    pub fn on(&self, id: FieldId) -> bool {
        matches!(self.get(id).map(|f| &f.value), Some(Value::Toggle(true)))
    }

    /// The checked values of the checklist `id`.
    pub fn checked(&self, id: FieldId) -> Vec<String> {
        match self.get(id).map(|f| &f.value) {
            Some(Value::Multi {
                choices, checked, ..
            }) => choices
                .iter()
                .zip(checked)
                .filter(|(_, on)| **on)
                .map(|(c, _)| c.value.clone())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Clear every error.
    pub fn clear_errors(&mut self) {
        for f in &mut self.fields {
            f.error = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn a_form_routes_keys_the_same_way_everywhere() {
        let mut form = Form {
            fields: vec![
                Field::text(FieldId::Name, "Name", "", ""),
                Field::with(
                    FieldId::Mode,
                    "Mode",
                    Value::Pick {
                        choices: vec![Choice::plain("a"), Choice::plain("b")],
                        selected: 0,
                    },
                ),
            ],
        };
        let order = [FieldId::Name, FieldId::Mode];
        let mut focus = FieldId::Name;
        let tab = press(KeyCode::Tab);
        let route = |form: &mut Form, focus: &mut FieldId, key, action, text| {
            form.route(focus, &order, &key, action, text)
        };
        // A typed 'q' is text in a text field, even where it is bound.
        let q = press(KeyCode::Char('q'));
        let got = route(&mut form, &mut focus, q, Some(Action::StepBack), true);
        assert_eq!(got, FormKey::Changed);
        assert_eq!(form.text(FieldId::Name), "q");
        // Tab moves along the order and wraps.
        let got = route(&mut form, &mut focus, tab, Some(Action::FieldNext), true);
        assert_eq!((got, focus), (FormKey::Nothing, FieldId::Mode));
        let got = route(&mut form, &mut focus, tab, Some(Action::FieldNext), false);
        assert_eq!((got, focus), (FormKey::Nothing, FieldId::Name));
        // Off a text field, a bound key is its action; Enter and Esc are the caller's.
        focus = FieldId::Mode;
        let got = route(&mut form, &mut focus, q, Some(Action::StepBack), false);
        assert_eq!(got, FormKey::Back);
        let enter = press(KeyCode::Enter);
        let got = route(&mut form, &mut focus, enter, Some(Action::StepNext), false);
        assert_eq!(got, FormKey::Submit);
        let right = press(KeyCode::Right);
        let got = route(
            &mut form,
            &mut focus,
            right,
            Some(Action::ChoiceNext),
            false,
        );
        assert_eq!(
            (got, form.text(FieldId::Mode).as_str()),
            (FormKey::Changed, "b")
        );
    }

    #[test]
    fn text_edits_and_leaves() {
        let mut f = Field::text(FieldId::Name, "Name", "", "");
        for c in "lab net".chars() {
            assert_eq!(f.key(&press(KeyCode::Char(c)), None), Edit::Changed);
        }
        let ctrl_w = KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL);
        f.key(&ctrl_w, Some(Action::FieldDeleteWord));
        assert_eq!(f.text_value(), "lab ");
        // 'k' types even though it means "up" elsewhere.
        f.key(&press(KeyCode::Char('k')), Some(Action::Up));
        assert_eq!(f.text_value(), "lab k");
        assert_eq!(
            f.key(&press(KeyCode::Up), Some(Action::Up)),
            Edit::LeavePrev
        );
        let ctrl_u = KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL);
        f.key(&ctrl_u, Some(Action::FieldClear));
        assert!(f.is_empty_text() && f.touched);
    }

    #[test]
    fn lists_choose_and_leave_at_the_ends() {
        let choices = vec![Choice::plain("a"), Choice::plain("b")];
        let mut f = Field::with(
            FieldId::Mode,
            "Mode",
            Value::List {
                choices,
                selected: 0,
            },
        );
        let down = press(KeyCode::Down);
        assert_eq!(f.key(&down, Some(Action::Down)), Edit::Changed);
        assert_eq!(f.text_value(), "b");
        assert_eq!(f.key(&down, Some(Action::Down)), Edit::LeaveNext);
        let up = press(KeyCode::Up);
        f.key(&up, Some(Action::Up));
        assert_eq!(f.key(&up, Some(Action::Up)), Edit::LeavePrev);
    }

    #[test]
    fn checklists_toggle_under_the_cursor() {
        let choices = vec![Choice::plain("eth0"), Choice::plain("eth1")];
        let mut form = Form {
            fields: vec![Field::with(
                FieldId::Devices,
                "NICs",
                Value::Multi {
                    choices,
                    checked: vec![false, false],
                    cursor: 0,
                },
            )],
        };
        let f = form.get_mut(FieldId::Devices).expect("field");
        f.key(&press(KeyCode::Down), Some(Action::Down));
        f.key(&press(KeyCode::Char(' ')), Some(Action::FieldToggle));
        assert_eq!(form.checked(FieldId::Devices), ["eth1"]);
    }
}
