//! Drawing the port forward form: its fields with their errors beside them, a refusal of the
//! backend that names no field, the focused field's hint; or the review, scrolled.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::forward::{ForwardForm, ForwardState};
use super::view_form::{draw_scrolled, fields, frame_block, paragraph, FormLines};
use super::view_network::tone_lines;
use crate::tui::app::App;
use crate::tui::format::spinner;

/// Draw the form over `area`.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, form: &ForwardForm) {
    let t = &app.settings.theme;
    let title = match form.state() {
        ForwardState::Review => "Add a port forward · review",
        _ => "Add a port forward",
    };
    let inner = frame_block(frame, area, t.block(title, true).style(t.popup));
    if inner.is_empty() {
        return;
    }
    let hint_row = inner.height > 6;
    let content = Rect {
        height: inner.height - u16::from(hint_row),
        ..inner
    };
    let width = usize::from(content.width);
    let hint = match form.state() {
        ForwardState::Review => {
            let mut body = FormLines::default();
            tone_lines(&mut body, form.review().unwrap_or_default(), width, t);
            let room = usize::from(content.height);
            let offset = usize::from(form.scroll).min(body.lines.len().saturating_sub(room));
            let below = body.lines.len().saturating_sub(offset + room);
            let lines: Vec<Line> = body.lines.into_iter().skip(offset).collect();
            frame.render_widget(Paragraph::new(lines), content);
            match below {
                0 => "y/Enter adds the forward · Esc back to the fields".to_owned(),
                n => format!("▼ {n} more lines (↓, PgDn) · y/Enter adds · Esc back"),
            }
        }
        state => {
            let mut body = FormLines::default();
            let running = matches!(state, ForwardState::Running(_));
            let focus = (!running).then(|| form.focused());
            fields(&mut body, &form.form, &form.shown(), focus, width, t);
            let keep = (body.focus_row, body.focus_end);
            body.push(Line::default());
            if running {
                body.push(Line::styled(
                    format!(" {} adding the forward…", spinner(app.tick)),
                    t.warning,
                ));
            }
            if let Some(why) = &form.general {
                body.push(Line::styled(" ✖ The backend refused the forward:", t.error));
                for l in why.lines() {
                    body.lines.extend(paragraph(l, width, 3, t.error));
                }
            }
            draw_scrolled(frame, content, body, keep);
            form.form
                .get(form.focused())
                .map_or(String::new(), |f| f.hint.clone())
        }
    };
    if hint_row {
        let row = Rect::new(inner.x, inner.bottom() - 1, inner.width, 1);
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {hint}"), t.muted)),
            row,
        );
    }
}
