//! The review step's text (pure, so it is tested without a terminal): where the apply stands,
//! for an edit what changes and whether the network restarts, problems left, the definition
//! as XML, and the backend's plan.

use super::network::{ApplyState, NetworkWizard, Preview};

/// How a review line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// A heading.
    Title,
    /// Ordinary text.
    Plain,
    /// Secondary text.
    Muted,
    /// Needs attention.
    Warn,
    /// Failure.
    Error,
    /// Success or a step done.
    Good,
}

/// The review's lines, first to last; `spinner` is the current spinner frame.
pub fn review_lines(w: &NetworkWizard, spinner: char) -> Vec<(Tone, String)> {
    let mut out = Vec::new();
    apply_lines(w, spinner, &mut out);
    change_lines(w, &mut out);
    for p in w.general_problems() {
        out.push((Tone::Error, format!("✖ {p}")));
    }
    if let Preview::Failed(text) = w.preview() {
        out.push((
            Tone::Error,
            "✖ the backend could not plan the start:".into(),
        ));
        out.extend(text.lines().map(|l| (Tone::Error, format!("  {l}"))));
        out.push((Tone::Plain, String::new()));
    }
    out.push((Tone::Title, "Definition".into()));
    match w.xml() {
        Some(xml) => out.extend(xml.lines().map(|l| (Tone::Plain, format!("  {l}")))),
        None => out.push((Tone::Error, "  none: fix the problems above first".into())),
    }
    out.push((Tone::Plain, String::new()));
    out.push((Tone::Title, "Plan of the start (from the backend)".into()));
    match w.preview() {
        Preview::Idle => out.push((Tone::Muted, "  not asked for yet".into())),
        Preview::Waiting(_) => out.push((Tone::Muted, format!("  {spinner} asking the backend…"))),
        Preview::Ready(text) => out.extend(text.lines().map(|l| (Tone::Plain, format!("  {l}")))),
        Preview::Failed(_) => out.push((Tone::Error, "  none (see above)".into())),
    }
    out
}

fn apply_lines(w: &NetworkWizard, spinner: char, out: &mut Vec<(Tone, String)>) {
    let steps = |steps: &[String], out: &mut Vec<(Tone, String)>| {
        for s in steps {
            out.push((Tone::Good, format!("  ✓ {s}")));
        }
    };
    match w.apply_state() {
        ApplyState::Idle => {}
        ApplyState::Running { steps: done, .. } => {
            let (last, before) = match done.split_last() {
                Some((last, before)) => (last.as_str(), before),
                None => ("sending", &[][..]),
            };
            out.push((Tone::Warn, format!("{spinner} applying…")));
            steps(before, out);
            out.push((Tone::Warn, format!("  {spinner} {last}")));
            out.push((Tone::Plain, String::new()));
        }
        ApplyState::Failed {
            message,
            steps: done,
        } => {
            out.push((Tone::Error, "✖ apply failed".into()));
            // Steps are reported as they begin: the last one begun is the one that failed.
            if let Some((failed, before)) = done.split_last() {
                steps(before, out);
                out.push((Tone::Error, format!("  ✖ {failed}")));
            }
            out.extend(message.lines().map(|l| (Tone::Error, format!("  {l}"))));
            out.push((Tone::Muted, "Go back to fix it, or apply again.".into()));
            out.push((Tone::Plain, String::new()));
        }
    }
}

/// The warning of an edit that restarts a running network's bridge, naming the guests that
/// are put back on it.
fn restart_head(base: &crate::tui::wizard::network::EditBase) -> String {
    let name = &base.def.name;
    let guests = match base.ports.len() {
        0 => "it has no guest ports now".to_owned(),
        n => format!(
            "its {n} guest port(s) are put back on it: {}",
            base.ports.join(", ")
        ),
    };
    format!("⚠ Applying restarts the bridge of '{name}' (stop → redefine → start); {guests}. If the new definition fails to start, the old one is restored and started again.")
}

fn change_lines(w: &NetworkWizard, out: &mut Vec<(Tone, String)>) {
    let Some(base) = w.editing() else { return };
    let changes = w.changes();
    if changes.is_empty() {
        out.push((
            Tone::Muted,
            "No changes: applying just closes the wizard.".into(),
        ));
        out.push((Tone::Plain, String::new()));
        return;
    }
    use crate::plan::change::Change as HostChange;
    let live = w.live_change();
    let restarts = matches!(live, Some(HostChange::Restart(_)));
    let head = match (&live, base.active) {
        (Some(HostChange::Restart(_)), _) => (Tone::Warn, restart_head(base)),
        (Some(HostChange::Live(plan)), _) => (
            Tone::Good,
            format!(
                "Applied live: the bridge and the guests' links stay ({} step(s)).",
                plan.steps.len()
            ),
        ),
        (Some(HostChange::Nothing), _) => (
            Tone::Good,
            "Nothing on the host changes: applying stores the definition.".into(),
        ),
        (None, false) => (
            Tone::Muted,
            "The network is not running: the new definition is used at its next start.".into(),
        ),
        (None, true) => (
            Tone::Muted,
            "Applying stores the definition and applies it to the running network.".into(),
        ),
    };
    out.push(head);
    if let Some(HostChange::Live(plan)) = &live {
        out.extend(plan.steps.iter().map(|s| (Tone::Plain, format!("  • {s}"))));
    }
    for c in changes {
        let note = match (c.restart && restarts, base.active) {
            (true, true) => "restart",
            (false, true) => "live",
            _ => "at the next start",
        };
        out.push((
            Tone::Plain,
            format!("  {}: {} → {}  ({note})", c.what, c.from, c.to),
        ));
    }
    out.push((Tone::Plain, String::new()));
}
