//! Checking a draft: the model builds and validates the definition (`build_definition`,
//! `validate`), and every problem lands on the form field it concerns, cross-field ones
//! (overlaps, a range outside the subnet) included. Problems no field owns are "general".

use std::collections::BTreeMap;

use super::context::{Seed, WizardContext};
use super::draft::{field_for_path, NetworkDraft};
use super::edit::merge;
use super::field::FieldId;
use crate::model::{build_definition, validate, NetworkDef, Problem};

/// The outcome of checking a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// The complete definition, when there is no problem at all.
    pub def: Option<NetworkDef>,
    /// The first problem of each field.
    pub errors: BTreeMap<FieldId, String>,
    /// Problems no field owns, as `path: message`.
    pub general: Vec<String>,
}

impl Checked {
    fn add(&mut self, field: Option<FieldId>, problem: &Problem) {
        match field {
            Some(f) => {
                self.errors
                    .entry(f)
                    .or_insert_with(|| problem.message.clone());
            }
            None => self.general.push(problem.to_string()),
        }
    }
}

/// Check `draft` against the host and the other networks. `base` is the stored definition
/// when editing: the draft's settings are merged into it, so what the wizard does not show
/// (static hosts, DNS records, …) is kept. `seed` makes generated values repeatable.
pub fn check(
    draft: &NetworkDraft,
    ctx: &WizardContext,
    seed: Seed,
    base: Option<&NetworkDef>,
) -> Checked {
    let (req, local) = draft.request();
    let mut out = Checked::default();
    for (field, message) in local {
        out.errors.entry(field).or_insert(message);
    }
    let renamed = base.is_none_or(|b| b.name != draft.name);
    if renamed && ctx.others.iter().any(|o| o.name == draft.name) {
        let msg = format!("a network named '{}' is already defined", draft.name);
        out.errors.entry(FieldId::Name).or_insert(msg);
    }
    let built = build_definition(&req, &ctx.others, &ctx.host, &mut seed.rand());
    let (def, problems) = match built {
        Ok(def) => {
            let def = base.map_or(def.clone(), |b| merge(b, &def));
            let problems = validate(&def, &ctx.others);
            (Some(def), problems)
        }
        Err(problems) => (None, problems),
    };
    let v4_first = draft.has_ipv4();
    let ip_is_v4 = |i: usize| match &def {
        Some(d) => d.ips.get(i).is_some_and(|ip| ip.address.is_ipv4()),
        None => v4_first && i == 0,
    };
    for p in &problems {
        out.add(field_for_path(&p.path, draft.mode, ip_is_v4), p);
    }
    if out.errors.is_empty() && out.general.is_empty() {
        out.def = def;
    }
    out
}
