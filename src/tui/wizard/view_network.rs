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
    let width = usize::from(inner.width);
    let mut body = FormLines::default();
    body.push(step_line(w.step(), t));
    body.push(Line::default());
    let hint_row = inner.height > 6 && w.step() != Step::Review;
    let content = Rect {
        height: inner.height - u16::from(hint_row),
        ..inner
    };
    if w.step() == Step::Review {
        let start = body.lines.len();
        review(&mut body, w, spinner(app.tick), width, t);
        let max = body.lines.len().saturating_sub(usize::from(content.height));
        let offset = usize::from(w.scroll).min(max);
        let lines: Vec<Line> = body.lines.drain(start..).skip(offset).collect();
        body.lines.extend(lines);
        frame.render_widget(Paragraph::new(body.lines), content);
        return;
    }
    fields(&mut body, &w.form, &w.visible(), w.focused(), width, t);
    explanations(&mut body, w, width, t);
    let keep = body.focus_row;
    draw_scrolled(frame, content, body, keep);
    if hint_row {
        let hint = w
            .focused()
            .and_then(|id| w.form.get(id))
            .map_or("", |f| f.hint.as_str());
        let row = Rect::new(inner.x, inner.bottom() - 1, inner.width, 1);
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {hint}"), t.muted)),
            row,
        );
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
    for (tone, text) in review_lines(w, spin) {
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
