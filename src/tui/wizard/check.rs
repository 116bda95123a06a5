//! Checking a draft: the model builds and validates the definition (`build_definition`,
//! `validate`), and every problem lands on the form field it concerns, cross-field ones
//! (overlaps, a range outside the subnet) included. Problems no field owns are "general".

use std::collections::{BTreeMap, BTreeSet};

use super::context::{Seed, WizardContext};
use super::draft::{field_for_path, NetworkDraft};
use super::edit::merge;
use super::field::FieldId;
use crate::model::{build_definition, validate, CreateRequest, NetworkDef, Problem};

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
    if let Some(msg) = bridge_name_taken(draft, ctx) {
        out.errors.entry(FieldId::BridgeName).or_insert(msg);
    }
    let (def, problems) = build(&req, ctx, seed, base);
    out.add_all(&problems, draft, def.as_ref());
    if def.is_none() {
        out.second_pass(&req, draft, ctx, seed, base);
    }
    if out.errors.is_empty() && out.general.is_empty() {
        out.def = def;
    }
    out
}

/// The model refuses an own bridge named like any existing interface ("already exists");
/// the wizard knows the interface's kind and says what is wrong with using it as a bridge.
fn bridge_name_taken(draft: &NetworkDraft, ctx: &WizardContext) -> Option<String> {
    let name = draft.bridge_name.trim();
    let taken = draft.mode.own_bridge() && ctx.not_bridges.iter().any(|n| n == name);
    taken.then(|| format!("{name} exists and is not a bridge"))
}

/// Build (and for an edit, merge) the definition: it, or every problem found.
fn build(
    req: &CreateRequest,
    ctx: &WizardContext,
    seed: Seed,
    base: Option<&NetworkDef>,
) -> (Option<NetworkDef>, Vec<Problem>) {
    match build_definition(req, &ctx.others, &ctx.host, &mut seed.rand()) {
        Ok(def) => {
            let def = match base {
                Some(b) => merge(b, &def),
                None => def,
            };
            let problems = validate(&def, &ctx.others);
            (Some(def), problems)
        }
        Err(problems) => (None, problems),
    }
}

/// `req` with the settings of the `bad` fields left to their defaults.
fn relaxed(req: &CreateRequest, bad: &BTreeSet<FieldId>) -> CreateRequest {
    let mut r = req.clone();
    for field in bad {
        match field {
            FieldId::Ipv4 => {
                r.ipv4 = None;
                r.dhcp = None;
            }
            FieldId::DhcpRange => r.dhcp = None,
            FieldId::Ipv6Prefix => r.ipv6 = None,
            FieldId::ForwardDev => r.forward_dev = None,
            FieldId::BridgeName => r.bridge = None,
            FieldId::Domain => r.domain = None,
            FieldId::Mtu => r.mtu = None,
            _ => {}
        }
    }
    r
}

/// Whether `ip[i]` is the IPv4 block: from the definition when there is one, else from the
/// draft (IPv4 first when it has one).
fn is_v4(def: Option<&NetworkDef>, draft: &NetworkDraft, i: usize) -> bool {
    match def {
        Some(d) => d.ips.get(i).is_some_and(|ip| ip.address.is_ipv4()),
        None => draft.has_ipv4() && i == 0,
    }
}

impl Checked {
    /// Parse-level problems stop the model before its cross-field checks: check again with
    /// the bad fields left to their defaults, so an overlap or a range outside the subnet
    /// shows on the other fields now rather than after the first fix.
    fn second_pass(
        &mut self,
        req: &CreateRequest,
        draft: &NetworkDraft,
        ctx: &WizardContext,
        seed: Seed,
        base: Option<&NetworkDef>,
    ) {
        let bad: BTreeSet<FieldId> = self.errors.keys().copied().collect();
        let (def, problems) = build(&relaxed(req, &bad), ctx, seed, base);
        let relaxed_away = |f: FieldId| {
            bad.contains(&f) || (f == FieldId::DhcpRange && bad.contains(&FieldId::Ipv4))
        };
        for p in problems {
            let field = field_for_path(&p.path, draft.mode, |i| is_v4(def.as_ref(), draft, i));
            if let Some(f) = field.filter(|f| !relaxed_away(*f)) {
                self.add(Some(f), &p);
            }
        }
    }

    fn add_all(&mut self, problems: &[Problem], draft: &NetworkDraft, def: Option<&NetworkDef>) {
        for p in problems {
            let field = field_for_path(&p.path, draft.mode, |i| is_v4(def, draft, i));
            self.add(field, p);
        }
    }
}
