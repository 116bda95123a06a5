//! The forwards view's state (the shared sortable, filterable table over the snapshot's
//! forwards) and its actions: `a` opens the forward form, `d` asks before removing the
//! selected forward, `t` runs its self-test and shows the report in a popup.

use super::log::Level;
use super::popup::{Confirm, Popup};
use super::table::{any_contains, SortColumn, SortKey, TableState};
use super::{App, View};
use crate::backend::ForwardTest;
use crate::tui::data::{Command, CommandResult, ForwardKey, ForwardRow};
use crate::tui::event::Effect;
use crate::tui::keymap::Action;
use crate::tui::wizard::{ForwardContext, ForwardForm};

/// Column the forwards are sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardSort {
    /// Network, then protocol and port.
    #[default]
    Network,
    /// Host port.
    Port,
    /// Busiest (new connections per second) first.
    HitRate,
    /// Most connections first.
    Hits,
    /// Target guest or address.
    Target,
}

impl SortColumn for ForwardSort {
    const ALL: &'static [ForwardSort] = &[
        ForwardSort::Network,
        ForwardSort::Port,
        ForwardSort::HitRate,
        ForwardSort::Hits,
        ForwardSort::Target,
    ];
}

/// State of the forwards view.
pub type ForwardsState = TableState<ForwardSort>;

/// The self-test popup: the forward tested, and where the test stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ForwardTestView {
    /// Sent as this request.
    Running(u64, ForwardKey),
    /// The backend's report.
    Done(Box<ForwardTest>),
    /// The test could not run: why.
    Failed(ForwardKey, String),
}

fn matches(f: &ForwardRow, needle: &str) -> bool {
    let typed = [
        f.forward.proto.to_string(),
        f.forward.port.to_string(),
        f.target_text(),
    ];
    let addrs = [
        f.to.map(|a| a.to_string()),
        f.forward.address.map(|a| a.to_string()),
    ];
    let fields = [
        Some(f.network.as_str()),
        f.guest.as_deref(),
        f.forward.comment.as_deref(),
    ];
    any_contains(
        fields
            .into_iter()
            .flatten()
            .chain(typed.iter().map(String::as_str))
            .chain(addrs.iter().flatten().map(String::as_str)),
        needle,
    )
}

fn sort_key(sort: ForwardSort, f: &ForwardRow) -> SortKey {
    match sort {
        ForwardSort::Network => SortKey::Text(Some(f.network.clone())),
        ForwardSort::Port => SortKey::Time(Some(u64::from(f.forward.port.first))),
        ForwardSort::HitRate => SortKey::Num(f.hit_rate),
        ForwardSort::Hits => SortKey::Num(f.hits.map(|h| h as f64)),
        ForwardSort::Target => SortKey::Text(Some(f.guest.clone().unwrap_or(f.target_text()))),
    }
}

impl App {
    /// The forwards view state (sort, filter, visible order).
    pub fn forwards_state(&self) -> &ForwardsState {
        &self.forwards
    }

    /// The selected forward (in the sorted, filtered order), if any.
    pub fn selected_forward(&self) -> Option<&ForwardRow> {
        let i = *self.forwards.order.get(self.forwards.list.selected)?;
        self.snap.forwards.get(i)
    }

    /// Recompute the visible order; keep `keep` selected if it is still visible.
    pub(crate) fn refresh_forward_order(&mut self, keep: Option<ForwardKey>) {
        let needle = self.forwards.needle();
        let sort = self.forwards.sort;
        let keep = keep.as_ref().map(|k| move |f: &ForwardRow| f.key() == *k);
        self.forwards.reorder(
            &self.snap.forwards,
            |f| needle.is_empty() || matches(f, &needle),
            |f| sort_key(sort, f),
            |a, b| a.key().cmp(&b.key()),
            keep.as_ref().map(|k| k as &dyn Fn(&ForwardRow) -> bool),
        );
        self.scroll_table(View::Forwards);
    }

    /// The actions of the forwards view.
    pub(crate) fn forward_action(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::AddForward => {
                self.open_add_forward();
                vec![]
            }
            Action::RemoveForward => {
                let Some(f) = self.selected_forward().cloned() else {
                    self.notify(Level::Warn, "no forward selected".into());
                    return vec![];
                };
                let key = f.key();
                let mut lines = vec![
                    format!("Remove forward {} ?", key),
                    format!(
                        "  {} {} → {}:{}",
                        f.forward.proto,
                        f.forward.port,
                        f.guest.clone().unwrap_or(f.target_text()),
                        f.forward.target_ports()
                    ),
                ];
                lines.push(if f.active {
                    "Its rules leave the running network now (only its chains change); \
                     connections through it stop."
                        .into()
                } else {
                    "It is removed from the stored definition.".into()
                });
                self.push_popup(Popup::Confirm(Confirm {
                    title: "Remove port forward".into(),
                    lines,
                    command: Command::RemoveForward {
                        network: key.network,
                        proto: key.proto,
                        port: key.port,
                    },
                }));
                vec![]
            }
            Action::TestForward => {
                let Some(f) = self.selected_forward().cloned() else {
                    self.notify(Level::Warn, "no forward selected".into());
                    return vec![];
                };
                let key = f.key();
                let effects = self.issue(Command::TestForward {
                    network: key.network.clone(),
                    proto: key.proto,
                    port: key.port,
                });
                if let Some(id) = Effect::executed_id(&effects) {
                    self.push_popup(Popup::ForwardTest(ForwardTestView::Running(id, key)));
                }
                effects
            }
            _ => vec![],
        }
    }

    /// `a`: the forward form over the NAT networks, the selected forward's network first.
    pub(crate) fn open_add_forward(&mut self) {
        let preferred = match self.view {
            View::Networks => self.selected_network().map(|n| n.name.clone()),
            _ => self.selected_forward().map(|f| f.network.clone()),
        };
        let ctx = ForwardContext::from_snapshot(&self.snap);
        match ForwardForm::new(ctx, preferred.as_deref()) {
            Some(form) => self.push_popup(Popup::Forward(Box::new(form))),
            None => self.notify(
                Level::Warn,
                "no NAT network is defined: forwards lead into a NAT network".into(),
            ),
        }
    }

    /// Hand a result to the forward form or the self-test popup that sent the command.
    /// Returns whether one of them took it.
    pub(crate) fn forwards_on_result(&mut self, result: &CommandResult) -> bool {
        let mut close = None;
        for (i, popup) in self.popups.iter_mut().enumerate() {
            match popup {
                Popup::Forward(form) => match form.on_result(result) {
                    None => continue,
                    Some(true) => close = Some(i),
                    Some(false) => {}
                },
                Popup::ForwardTest(view) => {
                    let ForwardTestView::Running(id, key) = view else {
                        continue;
                    };
                    if *id != result.id {
                        continue;
                    }
                    *view = match (&result.forward_test, result.ok) {
                        (Some(report), true) => ForwardTestView::Done(report.clone()),
                        _ => ForwardTestView::Failed(key.clone(), result.message.clone()),
                    };
                }
                _ => continue,
            }
            self.touch();
            if let Some(i) = close {
                self.popups.remove(i);
            }
            return true;
        }
        false
    }

    /// The host changed: the open forward form checks against it again.
    pub(crate) fn refresh_forward_forms(&mut self) {
        if !self.popups.iter().any(|p| matches!(p, Popup::Forward(_))) {
            return;
        }
        let ctx = ForwardContext::from_snapshot(&self.snap);
        for popup in &mut self.popups {
            if let Popup::Forward(form) = popup {
                form.refresh(ctx.clone());
            }
        }
    }
}
