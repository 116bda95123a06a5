//! The `why` form (`w` on a network): destination `ADDR[:PORT]`, protocol and direction,
//! each checked as it is typed (with [`crate::model::why::parse_target`]) and the problem
//! shown beside its field; Enter asks the App to trace it.

use crossterm::event::KeyEvent;

use super::field::{Choice, Field, FieldId, Form, FormKey, Value};
use crate::backend::WhyRequest;
use crate::model::why::{parse_target, WhyProto};
use crate::tui::keymap::{Keymap, Scope};

/// The fields, in focus order.
pub const WHY_FIELDS: [FieldId; 3] = [FieldId::Destination, FieldId::Proto, FieldId::Direction];

/// What the App should do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhyFormOutcome {
    /// Nothing beyond redrawing.
    Nothing,
    /// Close the popup.
    Close,
    /// Trace this.
    Trace(WhyRequest),
}

/// The form.
#[derive(Debug, Clone)]
pub struct WhyForm {
    pub(crate) form: Form,
    pub(crate) focus: FieldId,
    /// The network traced.
    pub network: String,
    attempted: bool,
}

impl WhyForm {
    /// An empty form for `network`.
    pub fn new(network: &str) -> Self {
        let pick = |values: &[(&str, &str)]| Value::Pick {
            choices: values
                .iter()
                .map(|(v, note)| Choice::new(v, v, note))
                .collect(),
            selected: 0,
        };
        let fields = vec![
            Field::text(FieldId::Destination, "Destination", "", "ADDR or ADDR:PORT")
                .hint("outbound: where it goes; inbound: the guest"),
            Field::with(
                FieldId::Proto,
                "Protocol",
                pick(&[("tcp", ""), ("udp", ""), ("icmp", "a ping; no port")]),
            )
            .hint("tcp, udp or icmp; ←/→ to choose"),
            Field::with(
                FieldId::Direction,
                "Direction",
                pick(&[
                    ("outbound", "from a guest of the network"),
                    (
                        "inbound",
                        "from outside toward a guest (through its forward, if any)",
                    ),
                ]),
            )
            .hint("←/→ to choose"),
        ];
        WhyForm {
            form: Form { fields },
            focus: FieldId::Destination,
            network: network.to_owned(),
            attempted: false,
        }
    }

    /// The same form filled in from `req` (to trace another destination).
    pub fn from_request(req: &WhyRequest) -> Self {
        let mut form = WhyForm::new(&req.network);
        let dest = match req.port {
            Some(p) => format!("{}:{p}", req.to),
            None => req.to.to_string(),
        };
        if let Some(f) = form.form.get_mut(FieldId::Destination) {
            f.set_text(&dest);
        }
        let pick = |form: &mut WhyForm, id, value: &str| {
            if let Some(Field {
                value: Value::Pick { choices, selected },
                ..
            }) = form.form.get_mut(id)
            {
                *selected = choices.iter().position(|c| c.value == value).unwrap_or(0);
            }
        };
        pick(&mut form, FieldId::Proto, req.proto.as_str());
        let dir = if req.inbound { "inbound" } else { "outbound" };
        pick(&mut form, FieldId::Direction, dir);
        form
    }

    /// The field with focus.
    pub fn focused(&self) -> FieldId {
        self.focus
    }

    /// The error shown beside field `id`, if any.
    pub fn error(&self, id: FieldId) -> Option<&str> {
        self.form.get(id).and_then(|f| f.error.as_deref())
    }

    /// The text (or chosen value) of field `id`.
    pub fn value(&self, id: FieldId) -> String {
        self.form.text(id)
    }

    /// The request the fields describe, or the problems by field.
    pub fn check(&self) -> Result<WhyRequest, Vec<(FieldId, String)>> {
        let proto = self
            .form
            .text(FieldId::Proto)
            .parse::<WhyProto>()
            .map_err(|e| vec![(FieldId::Proto, e)])?;
        let text = self.form.text(FieldId::Destination);
        let (to, port) = match text.trim() {
            "" => {
                return Err(vec![(
                    FieldId::Destination,
                    "give ADDR or ADDR:PORT".into(),
                )])
            }
            t => parse_target(t).map_err(|e| vec![(FieldId::Destination, e)])?,
        };
        if proto == WhyProto::Icmp && port.is_some() {
            return Err(vec![(FieldId::Destination, "icmp has no port".into())]);
        }
        Ok(WhyRequest {
            network: self.network.clone(),
            to,
            port,
            proto,
            from_guest: None,
            inbound: self.form.text(FieldId::Direction) == "inbound",
            from: None,
        })
    }

    /// Check every field as it is now; errors show on fields touched (or all after a try).
    pub fn recheck(&mut self) {
        let found = self.check().err().unwrap_or_default();
        self.form.show_errors(&found, self.attempted);
    }

    /// Handle a key.
    pub fn key(&mut self, key: &KeyEvent, keymap: &Keymap) -> WhyFormOutcome {
        let action = keymap.lookup(&[Scope::Form, Scope::List], key);
        let text = self.focus == FieldId::Destination;
        match self
            .form
            .route(&mut self.focus, &WHY_FIELDS, key, action, text)
        {
            FormKey::Back => WhyFormOutcome::Close,
            FormKey::Submit => {
                self.attempted = true;
                self.recheck();
                match self.check() {
                    Ok(req) => WhyFormOutcome::Trace(req),
                    Err(bad) => {
                        if let Some((id, _)) = bad.first() {
                            self.focus = *id;
                        }
                        WhyFormOutcome::Nothing
                    }
                }
            }
            FormKey::Changed => {
                self.recheck();
                WhyFormOutcome::Nothing
            }
            FormKey::Nothing => WhyFormOutcome::Nothing,
        }
    }
}
