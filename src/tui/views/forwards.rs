//! The forwards view: every port forward with its network, host port(s), target guest and
//! address, live hit rate and totals, sortable and filterable like the ports; and the
//! self-test popup with one block per probe path.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph};
use ratatui::Frame;

use super::filter_bar::FilteredList;
use crate::backend::{ForwardTest, ProbeOutcome, ProbePath};
use crate::tui::app::{App, ForwardSort, ForwardTestView, View};
use crate::tui::data::ForwardRow;
use crate::tui::format;
use crate::tui::layout;
use crate::tui::widgets::table::{left, right};
use crate::tui::widgets::Column;
use crate::tui::wizard::view_form::{frame_block, paragraph};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Col {
    Network,
    Port,
    Listen,
    Target,
    To,
    Rate,
    Hits,
    Bytes,
    Comment,
}

fn sorted_by(col: Col) -> Option<ForwardSort> {
    Some(match col {
        Col::Network => ForwardSort::Network,
        Col::Port => ForwardSort::Port,
        Col::Rate => ForwardSort::HitRate,
        Col::Hits => ForwardSort::Hits,
        Col::Target => ForwardSort::Target,
        _ => return None,
    })
}

fn columns(app: &App) -> Vec<Column<Col>> {
    let st = app.forwards_state();
    let title = |col: Col, name: &str| match sorted_by(col) {
        Some(s) if s == st.sort => format!("{name}{}", if st.reverse { "▲" } else { "▼" }),
        _ => name.to_string(),
    };
    let c = |col, name: &str, w, p| Column::new(col, title(col, name), w, p);
    // At 80 columns: network, port, target, its address, the rate and the hits; wider, the
    // bytes, the listen address and the comment join.
    vec![
        c(Col::Network, "Network", 9, 0),
        c(Col::Port, "Port", 13, 0),
        c(Col::Listen, "Listen", 15, 4),
        c(Col::Target, "Target", 14, 0).grow_to(24),
        c(Col::To, "To", 18, 1),
        c(Col::Rate, "Hits/s", 7, 0).right(),
        c(Col::Hits, "Hits", 7, 2).right(),
        c(Col::Bytes, "Bytes", 9, 3).right(),
        c(Col::Comment, "Comment", 10, 5).grow(),
    ]
}

/// The target as the list names it: the guest's name when known, else the MAC or address.
pub fn target_label(f: &ForwardRow) -> String {
    f.guest.clone().unwrap_or_else(|| f.target_text())
}

/// The resolved target with its port(s): `192.168.122.4:80`, or "–" when it does not resolve.
pub fn to_label(f: &ForwardRow) -> String {
    match f.to {
        Some(a) => format!("{a}:{}", f.forward.target_ports()),
        None => format::opt(None).to_owned(),
    }
}

fn cell<'a>(app: &App, row: usize, col: Col, width: u16) -> Cell<'a> {
    let t = &app.settings.theme;
    let f = &app.snapshot().forwards[app.forwards_state().order[row]];
    let fit = |text: &str| format::fit(text, width.into());
    let dim = if f.active { t.base } else { t.muted };
    match col {
        Col::Network => left(fit(&f.network), dim),
        Col::Port => left(fit(&format!("{}/{}", f.forward.proto, f.forward.port)), dim),
        Col::Listen => left(
            fit(&f.forward.address.map_or("*".into(), |a| a.to_string())),
            dim,
        ),
        Col::Target => left(fit(&target_label(f)), dim),
        Col::To if f.to.is_none() => left(format::opt(None).to_owned(), t.error),
        Col::To => left(fit(&to_label(f)), dim),
        Col::Rate => right(format::events_per_sec(f.hit_rate), dim),
        Col::Hits => right(f.hits.map_or(format::opt(None).into(), format::count), dim),
        Col::Bytes => right(
            f.bytes.map_or(format::opt(None).into(), |b| {
                format::total(b, app.settings.units)
            }),
            dim,
        ),
        Col::Comment => left(
            fit(&f
                .forward
                .comment
                .as_deref()
                .map_or(String::new(), |c| c.escape_debug().to_string())),
            t.muted,
        ),
    }
}

/// Draw the view.
pub fn draw(frame: &mut Frame, body: Rect, app: &App, focused: bool) {
    let st = app.forwards_state();
    FilteredList {
        view: View::Forwards,
        name: "Port forwards",
        columns: &columns(app),
        shown: st.order.len(),
        total: app.snapshot().forwards.len(),
        list: st.list,
        filter: &st.filter,
        none: "no port forwards: a adds one to a NAT network",
        no_match: "no forward matches the filter",
    }
    .draw(frame, body, app, focused, |i, c, w| cell(app, i, c, w));
}

fn path_name(p: ProbePath) -> &'static str {
    match p {
        ProbePath::Outside => "From outside",
        ProbePath::Host => "From the host",
        ProbePath::Hairpin => "From the bridge (hairpin)",
    }
}

/// The self-test popup.
pub fn draw_test(frame: &mut Frame, body: Rect, app: &App, view: &ForwardTestView) {
    let t = &app.settings.theme;
    let area = layout::detail_popup(body);
    let title = match view {
        ForwardTestView::Running(_, key) | ForwardTestView::Failed(key, _) => {
            format!("Self-test of forward {key}")
        }
        ForwardTestView::Done(r) => {
            format!("Self-test of forward {} of {}", r.forward.key(), r.network)
        }
    };
    let title = format!("{title} (Esc closes)");
    let inner = frame_block(frame, area, t.block(title, true).style(t.popup));
    if inner.is_empty() {
        return;
    }
    let width = usize::from(inner.width);
    let mut lines: Vec<Line> = Vec::new();
    match view {
        ForwardTestView::Running(..) => lines.push(Line::styled(
            format!(
                " {} probing from outside, from the host and from the bridge…",
                format::spinner(app.tick)
            ),
            t.warning,
        )),
        ForwardTestView::Failed(_, why) => {
            lines.push(Line::styled(" ✖ The self-test could not run:", t.error));
            for l in why.lines() {
                lines.extend(paragraph(l, width, 3, t.error));
            }
        }
        ForwardTestView::Done(report) => report_lines(report, width, app, &mut lines),
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn report_lines(r: &ForwardTest, width: usize, app: &App, out: &mut Vec<Line<'static>>) {
    let t = &app.settings.theme;
    let to =
        r.to.map_or("no address (it does not resolve)".into(), |a| a.to_string());
    out.push(Line::styled(
        format!(" Target now: {to}, port {}", r.forward.target_ports()),
        t.base,
    ));
    for p in &r.paths {
        out.push(Line::default());
        out.push(Line::styled(format!(" {}", path_name(p.path)), t.title));
        out.extend(paragraph(
            &format!("{} → {}", p.from, p.to),
            width,
            3,
            t.muted,
        ));
        let (text, style) = match &p.outcome {
            ProbeOutcome::Answered { how } => (format!("✓ the guest answered ({how})"), t.ok),
            ProbeOutcome::NoAnswer {
                counter_hit,
                stopped_by,
            } => {
                let counter = if *counter_hit {
                    "the forward's counter moved (the DNAT rule was reached)"
                } else {
                    "the forward's counter did not move (the DNAT rule was not reached)"
                };
                let by = stopped_by
                    .as_ref()
                    .map_or(String::new(), |s| format!("; stopped by {s}"));
                (format!("✖ no answer: {counter}{by}"), t.error)
            }
            ProbeOutcome::Skipped { reason } => (format!("– skipped: {reason}"), t.muted),
        };
        out.extend(paragraph(&text, width, 3, style));
        if let Some(note) = &p.note {
            out.extend(paragraph(&format!("note: {note}"), width, 3, t.warning));
        }
    }
}
