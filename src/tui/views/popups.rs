//! The confirmation popup: the question, what will happen, and the keys (from the keymap).

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::app::{App, Confirm, MovePort};
use crate::tui::keymap::Action;
use crate::tui::layout;

/// Draw `confirm` centred in `body`.
pub fn confirm(frame: &mut Frame, body: Rect, app: &App, confirm: &Confirm) {
    let t = &app.settings.theme;
    let lines: Vec<Line> = confirm
        .lines
        .iter()
        .map(|l| Line::styled(l.clone(), t.base))
        .collect();
    question(frame, body, app, &confirm.title, lines, Vec::new());
}

/// Draw the move of a guest port: the networks it can go to, the picked one marked, and the
/// question.
pub fn move_port(frame: &mut Frame, body: Rect, app: &App, mv: &MovePort) {
    let t = &app.settings.theme;
    let km = &app.settings.keymap;
    let who = match &mv.guest {
        Some(g) => format!("{} ({g})", mv.ifname),
        None => mv.ifname.clone(),
    };
    let mut lines = vec![Line::styled(
        format!("Move {who} from {} to:", mv.from),
        t.base,
    )];
    for (i, name) in mv.choices.iter().enumerate() {
        lines.push(if i == mv.selected {
            Line::styled(format!("  ▸ {name}"), t.selected)
        } else {
            Line::styled(format!("    {name}"), t.base)
        });
    }
    lines.push(Line::styled(
        "The link moves at once; the guest may need to renew its DHCP lease.",
        t.muted,
    ));
    let pick = vec![
        Span::styled("   ", t.base),
        Span::styled(
            format!(
                "[{}/{}]",
                km.key_label(Action::Up),
                km.key_label(Action::Down)
            ),
            t.key,
        ),
        Span::styled(" network", t.base),
    ];
    question(frame, body, app, "Move port", lines, pick);
}

/// A question popup centred in `body`: `lines`, then the yes/no keys and `extra` keys.
pub(super) fn question<'a>(
    frame: &mut Frame,
    body: Rect,
    app: &App,
    title: &str,
    mut lines: Vec<Line<'a>>,
    extra: Vec<Span<'a>>,
) {
    let t = &app.settings.theme;
    let km = &app.settings.keymap;
    lines.push(Line::default());
    let mut keys = vec![
        Span::styled(format!("[{}]", km.key_label(Action::Confirm)), t.key),
        Span::styled(" yes   ", t.base),
        Span::styled(format!("[{}]", km.key_label(Action::Cancel)), t.key),
        Span::styled(" no", t.base),
    ];
    keys.extend(extra);
    lines.push(Line::from(keys));
    let widest = lines.iter().map(Line::width).max().unwrap_or(0) as u16;
    let width = widest.saturating_add(4).max(30).min(body.width);
    let area = layout::centered(
        body,
        width,
        wrapped_rows(&lines, width.saturating_sub(2)) + 2,
    );
    frame.render_widget(Clear, area);
    let block = t
        .block(title.to_owned(), true)
        .border_style(t.warning)
        .style(t.popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// Rows `lines` take when wrapped at word boundaries into `inner` columns: a line that wraps
/// is given one row more than its characters need, for the room word breaks leave, so the
/// keys on the last line are never cut off.
fn wrapped_rows(lines: &[Line], inner: u16) -> u16 {
    let inner = usize::from(inner.max(1));
    let rows: usize = lines
        .iter()
        .map(|l| match l.width() {
            w if w <= inner => 1,
            w => w.div_ceil(inner) + 1,
        })
        .sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

/// One log entry in full, wrapped: its time, its level and all of its text.
pub fn log_entry(frame: &mut Frame, body: Rect, app: &App, index: usize) {
    let t = &app.settings.theme;
    let Some(entry) = app.log_entries().get(index) else {
        return;
    };
    let when = entry.at_unix.map_or_else(
        || "before any data".to_string(),
        crate::tui::format::clock_utc,
    );
    let lines = vec![
        Line::styled(format!("{when} · {:?}", entry.level), t.muted),
        Line::default(),
        Line::styled(entry.text.clone(), t.base),
    ];
    let width = body.width.min(76);
    let area = layout::centered(
        body,
        width,
        wrapped_rows(&lines, width.saturating_sub(2)) + 2,
    );
    frame.render_widget(Clear, area);
    let block = t.block("Log entry (Esc close)", true).style(t.popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
