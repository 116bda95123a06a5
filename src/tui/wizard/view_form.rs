//! Drawing form fields as lines: label, value, and the field's error right under it. Shared
//! by the wizard's steps and the macvtap form. Rows are laid out by hand (no wrapping by the
//! widget) so the cursor lands exactly on the focused text field.

use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;
use tui_input::Input;

use super::field::{Choice, Field, FieldId, Form, Value};
use crate::tui::format::{fit, wrap};
use crate::tui::theme::Theme;

/// Columns taken by labels.
pub const LABEL_W: usize = 17;
/// Widest text input.
const INPUT_MAX: usize = 40;

/// Form lines and where the cursor goes.
#[derive(Debug, Default)]
pub struct FormLines {
    /// The lines.
    pub lines: Vec<Line<'static>>,
    /// (row, column) of the text cursor, relative to the lines.
    pub cursor: Option<(usize, usize)>,
    /// Row of the focused field (of its chosen entry, in a list).
    pub focus_row: usize,
    /// Last row of the focused field, its error included.
    pub focus_end: usize,
}

impl FormLines {
    /// Add a plain line.
    pub fn push(&mut self, line: Line<'static>) {
        self.lines.push(line);
    }
}

/// Append `ids`' fields of `form` to `out`, `width` columns wide.
pub fn fields(
    out: &mut FormLines,
    form: &Form,
    ids: &[FieldId],
    focus: Option<FieldId>,
    width: usize,
    t: &Theme,
) {
    for id in ids {
        let Some(field) = form.get(*id) else { continue };
        let focused = focus == Some(*id);
        if focused {
            out.focus_row = out.lines.len();
        }
        field_lines(out, field, focused, width, t);
        if focused {
            out.focus_end = out.lines.len().saturating_sub(1);
        }
    }
}

/// What drawing one field needs.
struct Row<'a> {
    field: &'a Field,
    focused: bool,
    /// Columns right of the label.
    value_w: usize,
    t: &'a Theme,
}

impl Row<'_> {
    fn label(&self) -> Span<'static> {
        let marker = if self.focused { "▸" } else { " " };
        let text = fit(self.field.label, LABEL_W - 3);
        let style = if self.focused {
            self.t.key
        } else {
            self.t.base
        };
        Span::styled(format!("{marker}{text:<w$}  ", w = LABEL_W - 3), style)
    }

    fn value_style(&self) -> Style {
        if self.focused {
            self.t.selected
        } else {
            self.t.base
        }
    }

    /// The label, then `spans`, on one line.
    fn line(&self, spans: Vec<Span<'static>>) -> Line<'static> {
        let mut line = vec![self.label()];
        line.extend(spans);
        Line::from(line)
    }
}

fn field_lines(out: &mut FormLines, field: &Field, focused: bool, width: usize, t: &Theme) {
    let row = Row {
        field,
        focused,
        value_w: width.saturating_sub(LABEL_W),
        t,
    };
    match &field.value {
        Value::Text { input, placeholder } => {
            let editable = focused && !field.read_only;
            let (spans, cursor) = text_spans(input, placeholder, editable, row.value_w, t);
            if let Some(col) = cursor {
                out.cursor = Some((out.lines.len(), LABEL_W + col));
            }
            out.push(row.line(spans));
        }
        Value::Toggle(on) => {
            let text = if *on { "[x] on" } else { "[ ] off" };
            out.push(row.line(vec![Span::styled(text, row.value_style())]));
        }
        Value::Pick { choices, selected } => out.push(pick_line(&row, choices.get(*selected))),
        Value::List { choices, selected } => {
            let marks = |i: usize| if i == *selected { "(•)" } else { "( )" };
            list_lines(out, &row, choices, marks, *selected);
        }
        Value::Multi {
            choices,
            checked,
            cursor,
        } => {
            let marks = |i: usize| match checked.get(i) {
                Some(true) => "[x]",
                _ => "[ ]",
            };
            list_lines(out, &row, choices, marks, *cursor);
        }
    }
    if let Some(err) = &field.error {
        error_lines(out, err, row.value_w, t);
    }
}

fn pick_line(row: &Row, choice: Option<&Choice>) -> Line<'static> {
    let text = format!("‹ {} ›", choice.map_or("none", |c| c.label.as_str()));
    let room = row.value_w.saturating_sub(text.chars().count() + 2);
    let note = fit(choice.map_or("", |c| c.note.as_str()), room);
    row.line(vec![
        Span::styled(text, row.value_style()),
        Span::styled(format!("  {note}"), row.t.muted),
    ])
}

fn error_lines(out: &mut FormLines, err: &str, value_w: usize, t: &Theme) {
    for (i, l) in wrap(err, value_w.saturating_sub(2)).into_iter().enumerate() {
        let lead = if i == 0 { "✖ " } else { "  " };
        out.push(Line::from(vec![
            Span::raw(" ".repeat(LABEL_W)),
            Span::styled(format!("{lead}{l}"), t.error),
        ]));
    }
}

fn list_lines(
    out: &mut FormLines,
    row: &Row,
    choices: &[Choice],
    marks: impl Fn(usize) -> &'static str,
    at: usize,
) {
    let t = row.t;
    if choices.is_empty() {
        out.push(row.line(vec![Span::styled("(none on this host)", t.muted)]));
        return;
    }
    let label_w = choices
        .iter()
        .map(|c| c.label.chars().count())
        .max()
        .unwrap_or(0);
    for (i, c) in choices.iter().enumerate() {
        let here = row.focused && at == i;
        if here {
            out.focus_row = out.lines.len();
        }
        let head = format!("{} {:<label_w$}", marks(i), c.label);
        let note = fit(
            &c.note,
            row.value_w.saturating_sub(head.chars().count() + 2),
        );
        let spans = vec![
            Span::styled(head, if here { t.selected } else { t.base }),
            Span::styled(format!("  {note}"), t.muted),
        ];
        out.push(match i {
            0 => row.line(spans),
            _ => {
                let mut line = vec![Span::raw(" ".repeat(LABEL_W))];
                line.extend(spans);
                Line::from(line)
            }
        });
    }
}

/// A text field's spans and, when focused, the cursor column within the value area.
fn text_spans(
    input: &Input,
    placeholder: &str,
    focused: bool,
    value_w: usize,
    t: &Theme,
) -> (Vec<Span<'static>>, Option<usize>) {
    let inner = value_w.saturating_sub(2).min(INPUT_MAX);
    let style: Style = if focused { t.selected } else { t.base };
    let body = if input.value().is_empty() {
        Span::styled(
            format!("{:<inner$}", fit(placeholder, inner)),
            style.patch(t.muted),
        )
    } else {
        let scroll = input.visual_scroll(inner);
        let shown: String = input.value().chars().skip(scroll).take(inner).collect();
        Span::styled(format!("{shown:<inner$}"), style)
    };
    let cursor = focused.then(|| {
        1 + input
            .visual_cursor()
            .saturating_sub(input.visual_scroll(inner))
    });
    let spans = vec![Span::styled("[", t.muted), body, Span::styled("]", t.muted)];
    (spans, cursor)
}

/// Clear `area`, draw `block` there and return the area inside it.
pub fn frame_block(frame: &mut Frame, area: Rect, block: Block<'static>) -> Rect {
    frame.render_widget(Clear, area);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// Draw `body` in `inner`, scrolled so rows `keep.0..=keep.1` are visible (with a line of
/// context below) as far as they fit, `keep.0` first: a focused field's whole error shows, not
/// only its first line. The cursor goes where `body` says when that is visible.
pub fn draw_scrolled(frame: &mut Frame, inner: Rect, body: FormLines, keep: (usize, usize)) {
    if inner.is_empty() {
        return;
    }
    let height = usize::from(inner.height);
    let (first, last) = (keep.0, keep.1.max(keep.0));
    let offset = (last + 2)
        .saturating_sub(height)
        .min(first)
        .min(body.lines.len().saturating_sub(1));
    if let Some((row, col)) = body.cursor {
        let visible = row >= offset && row < offset + height && col < usize::from(inner.width);
        if visible {
            frame.set_cursor_position(Position::new(
                inner.x + col as u16,
                inner.y + (row - offset) as u16,
            ));
        }
    }
    let lines: Vec<Line> = body.lines.into_iter().skip(offset).collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Wrapped lines of `text` in `style`, indented by `indent` columns.
pub fn paragraph(text: &str, width: usize, indent: usize, style: Style) -> Vec<Line<'static>> {
    wrap(text, width.saturating_sub(indent))
        .into_iter()
        .map(|l| Line::from(vec![Span::raw(" ".repeat(indent)), Span::styled(l, style)]))
        .collect()
}
