//! Drawing the network wizard: the step line, the step's fields with their errors, the mode
//! explanations, the focused field's hint, and the review.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::network::NetworkWizard;
use super::review::{review_lines, Tone};
use super::steps::{NetMode, Step, TapMode};
use super::view_form::{draw_scrolled, fields, frame_block, paragraph, FormLines};
use crate::tui::app::App;
use crate::tui::format::{spinner, wrap};
use crate::tui::keymap::Action;
use crate::tui::theme::Theme;

/// Draw the wizard over `area`.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, w: &NetworkWizard) {
    let t = &app.settings.theme;
    let title = match w.editing() {
        Some(base) => format!("Edit network '{}'", base.def.name),
        None => "New network".to_string(),
    };
    let title = format!(
        "{title} · step {} of {}",
        w.step().number(),
        Step::ALL.len()
    );
    let inner = frame_block(frame, area, t.block(title, true).style(t.popup));
    if inner.is_empty() {
        return;
    }
    let hint_row = inner.height > 6;
    let content = Rect {
        height: inner.height - u16::from(hint_row),
        ..inner
    };
    let hint = match w.step() {
        Step::Review => draw_review(frame, content, app, w),
        _ => draw_step(frame, content, w, t),
    };
    if hint_row {
        let row = Rect::new(inner.x, inner.bottom() - 1, inner.width, 1);
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {hint}"), t.muted)),
            row,
        );
    }
}

fn header(w: &NetworkWizard, t: &Theme) -> FormLines {
    let mut body = FormLines::default();
    body.push(step_line(w.step(), t));
    body.push(Line::default());
    body
}

/// A step's fields; returns the focused field's hint.
fn draw_step(frame: &mut Frame, area: Rect, w: &NetworkWizard, t: &Theme) -> String {
    let width = usize::from(area.width);
    let mut body = header(w, t);
    fields(&mut body, &w.form, &w.visible(), w.focused(), width, t);
    explanations(&mut body, w, width, t);
    let keep = (body.focus_row, body.focus_end);
    draw_scrolled(frame, area, body, keep);
    let focused = w.focused().and_then(|id| w.form.get(id));
    focused.map_or(String::new(), |f| f.hint.clone())
}

/// The review, scrolled; returns a hint saying what lies below.
fn draw_review(frame: &mut Frame, area: Rect, app: &App, w: &NetworkWizard) -> String {
    let t = &app.settings.theme;
    let mut body = header(w, t);
    let fixed = body.lines.len();
    let mut text = FormLines::default();
    review(&mut text, w, spinner(app.tick), usize::from(area.width), t);
    let room = usize::from(area.height).saturating_sub(fixed);
    let offset = usize::from(w.scroll).min(text.lines.len().saturating_sub(room));
    let below = text.lines.len().saturating_sub(offset + room);
    body.lines.extend(text.lines.into_iter().skip(offset));
    frame.render_widget(Paragraph::new(body.lines), area);
    let km = &app.settings.keymap;
    let first_key = |a: Action| {
        km.keys(a)
            .first()
            .map_or(String::new(), ToString::to_string)
    };
    match (below, offset) {
        (0, 0) => String::new(),
        (0, _) => format!("▲ back to the top with {}", first_key(Action::First)),
        (n, _) => format!(
            "▼ {n} more lines ({}, {})",
            first_key(Action::Down),
            first_key(Action::PageDown)
        ),
    }
}

fn step_line(current: Step, t: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, step) in Step::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" › ", t.muted));
        }
        let style = match step.cmp(&current) {
            std::cmp::Ordering::Equal => t.tab_active,
            std::cmp::Ordering::Less => t.ok,
            std::cmp::Ordering::Greater => t.muted,
        };
        spans.push(Span::styled(
            format!(" {} {} ", step.number(), step.title()),
            style,
        ));
    }
    Line::from(spans)
}

/// Below the fields of step 1: what the chosen mode means; for macvtap, its modes too.
fn explanations(out: &mut FormLines, w: &NetworkWizard, width: usize, t: &Theme) {
    let mode = w.draft().mode;
    match w.step() {
        Step::NameMode => {
            out.push(Line::default());
            let text = format!("{}: {}.", mode.label(), mode.explain());
            out.lines.extend(paragraph(&text, width, 1, t.base));
            if mode == NetMode::Macvtap {
                for m in TapMode::ALL {
                    let text = format!("{}: {}", m.label(), m.explain());
                    out.lines.extend(paragraph(&text, width, 3, t.muted));
                }
            }
        }
        Step::Addressing if mode == NetMode::Macvtap => {
            out.push(Line::default());
            let text = "The host cannot reach its guests through macvtap; VEPA needs a switch with hairpin (reflective relay) on.";
            out.lines.extend(paragraph(text, width, 1, t.muted));
        }
        _ => {}
    }
}

fn review(out: &mut FormLines, w: &NetworkWizard, spin: char, width: usize, t: &Theme) {
    tone_lines(out, review_lines(w, spin), width, t);
}

/// Review lines drawn in their tones, wrapped to `width` under their indent (shared with the
/// forward form's review).
pub(crate) fn tone_lines(out: &mut FormLines, lines: Vec<(Tone, String)>, width: usize, t: &Theme) {
    for (tone, text) in lines {
        let style = match tone {
            Tone::Title => t.title,
            Tone::Plain => t.base,
            Tone::Muted => t.muted,
            Tone::Warn => t.warning,
            Tone::Error => t.error,
            Tone::Good => t.ok,
        };
        let indent = text.chars().take_while(|c| *c == ' ').count();
        let room = width.saturating_sub(indent + 3);
        for (i, line) in wrap(text.trim_start(), room).into_iter().enumerate() {
            let pad = if i == 0 { indent + 1 } else { indent + 3 };
            out.push(Line::styled(format!("{}{line}", " ".repeat(pad)), style));
        }
    }
}
