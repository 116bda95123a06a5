//! The tab line (views, frozen flag, refresh interval) and the footer (spinner, toast or key
//! hints generated from the keymap).

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::app::{App, Level, Popup, WhyPhase};
use crate::tui::format;
use crate::tui::keymap::Scope;
use crate::tui::layout;
use crate::tui::theme::Theme;
use crate::tui::wizard::{ForwardState, Step};

/// The tab line.
pub fn tabs(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.settings.theme;
    if area.is_empty() {
        return;
    }
    let tabs = layout::tabs(area);
    let mut spans: Vec<Span> = Vec::new();
    for tab in &tabs {
        let style = if tab.view == app.view() {
            t.tab_active
        } else {
            t.tab
        };
        spans.push(Span::styled(tab.label.clone(), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    let mut status = vec![Span::styled(
        format!("⟳ {} ", crate::tui::app::interval_text(app.interval_ms())),
        t.muted,
    )];
    if app.is_frozen() {
        status.insert(0, Span::styled("❄ FROZEN ", t.warning));
    }
    let used: u16 = tabs.iter().map(|t| t.label.chars().count() as u16).sum();
    let width: u16 = status.iter().map(|s| s.width() as u16).sum();
    if used + width < area.width {
        let at = Rect::new(area.right() - width, area.y, width, 1);
        frame.render_widget(Paragraph::new(Line::from(status)), at);
    }
}

/// Style of a log/toast level.
pub fn level_style(theme: &Theme, level: Level) -> Style {
    match level {
        Level::Info => theme.base,
        Level::Ok => theme.ok,
        Level::Warn => theme.warning,
        Level::Error => theme.error,
    }
}

/// The scopes whose keys the footer advertises right now.
fn hint_scopes(app: &App) -> &'static [Scope] {
    match app.popup() {
        Some(Popup::Confirm(_) | Popup::MovePort(_)) => &[Scope::Confirm],
        Some(Popup::Filter) => &[Scope::Filter],
        Some(Popup::Wizard(w)) if w.step() == Step::Review => &[Scope::Review],
        Some(Popup::Wizard(_) | Popup::Attach(_)) => &[Scope::Form],
        Some(Popup::Forward(f)) if *f.state() == ForwardState::Review => &[Scope::Review],
        Some(Popup::Forward(_)) => &[Scope::Form],
        Some(Popup::Why(w)) => match w.phase {
            WhyPhase::Form(_) => &[Scope::Form],
            WhyPhase::Confirm(_) => &[Scope::Confirm],
            WhyPhase::Report { .. } | WhyPhase::Failed { .. } => &[Scope::Why, Scope::Popup],
            WhyPhase::Tracing(_) | WhyPhase::Applying(..) => &[Scope::Popup],
        },
        Some(_) => &[Scope::Popup],
        None => app.view().scopes(),
    }
}

/// Key hints that fit in `width` columns.
fn hints(app: &App, width: usize) -> Vec<Span<'static>> {
    let t = &app.settings.theme;
    let mut spans = Vec::new();
    let mut used = 0;
    for (key, label) in app.settings.keymap.hints(hint_scopes(app)) {
        let w = key.chars().count() + label.chars().count() + 3;
        if used + w > width {
            break;
        }
        used += w;
        spans.push(Span::styled(format!(" {key}"), t.key));
        spans.push(Span::styled(format!(" {label} "), t.muted));
    }
    spans
}

/// The footer: a spinner while commands are pending, then a toast or the key hints.
pub fn footer(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.settings.theme;
    if area.is_empty() {
        return;
    }
    let mut spans = Vec::new();
    if let Some(p) = app.pending().values().next() {
        let frame_char = format::spinner(app.tick);
        let more = app.pending().len() - 1;
        let extra = if more > 0 {
            format!(" (+{more})")
        } else {
            String::new()
        };
        let step = p.step.as_ref().map_or(String::new(), |s| format!(": {s}"));
        spans.push(Span::styled(
            format!(" {frame_char} {}…{step}{extra} ", p.cmd.doing()),
            t.warning,
        ));
    }
    let used: usize = spans.iter().map(Span::width).sum();
    let rest = usize::from(area.width).saturating_sub(used);
    match app.toast() {
        Some(toast) => {
            let text = format::fit(&format!(" {}", toast.text), rest);
            spans.push(Span::styled(text, level_style(t, toast.level)));
        }
        None => spans.extend(hints(app, rest)),
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
