//! The header line: host (marked "(simulated)" on the demo's fake host), kernel, uptime, load,
//! networks, total traffic, and a warning badge.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::app::App;
use crate::tui::data::NetworkRow;
use crate::tui::format;

/// A piece of the header and how much it matters (0 = most).
struct Segment {
    text: String,
    style: Style,
    priority: u8,
}

fn segments(app: &App) -> Vec<Segment> {
    let t = &app.settings.theme;
    let s = app.snapshot();
    let h = &s.host;
    let active = s.networks.iter().filter(|n| n.active).count();
    let total = app.total_traffic();
    let units = app.settings.units;
    let seg = |text: String, style, priority| Segment {
        text,
        style,
        priority,
    };
    // Nothing on a simulated host is real: say so wherever the host is named.
    let host = match h.simulated {
        true => format!("{} (simulated)", h.hostname),
        false => h.hostname.clone(),
    };
    vec![
        seg(host, t.header, 0),
        seg(h.kernel.clone(), t.header, 5),
        seg(
            format!("up {}", format::duration(h.uptime_secs)),
            t.header,
            4,
        ),
        seg(
            format!("load {:.2} {:.2} {:.2}", h.load[0], h.load[1], h.load[2]),
            t.header,
            3,
        ),
        seg(format!("nets {active}/{}", s.networks.len()), t.header, 2),
        seg(
            format!(
                "rx {} tx {}",
                format::rate(total.rx_bps, units),
                format::rate(total.tx_bps, units)
            ),
            t.header,
            1,
        ),
    ]
}

/// Why a network needs attention, most serious first.
fn reason(net: &NetworkRow) -> Option<&'static str> {
    if net.error.is_some() {
        Some("error")
    } else if net.dnsmasq_dead() {
        Some("dnsmasq down")
    } else if !net.drift.is_empty() {
        Some("drift")
    } else {
        None
    }
}

/// The badge naming networks with drift, a dead dnsmasq or an error.
fn badge(app: &App) -> Option<Segment> {
    let t = &app.settings.theme;
    let nets: Vec<(&str, &str)> = app
        .snapshot()
        .networks
        .iter()
        .filter_map(|n| reason(n).map(|r| (n.name.as_str(), r)))
        .collect();
    let failed = nets.iter().any(|(_, r)| *r == "error");
    let (icon, style) = if failed {
        ("✖", t.error)
    } else {
        ("⚠", t.warning)
    };
    let text = match nets.as_slice() {
        [] => return None,
        [(name, why)] => format!("{icon} {name}: {why}"),
        many => format!("{icon} {} networks need attention", many.len()),
    };
    // Drawn on the terminal's own background so it stands out from the header bar.
    Some(Segment {
        text,
        style: Style::reset().patch(style),
        priority: 0,
    })
}

/// Draw the header into one line.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.settings.theme;
    if area.is_empty() {
        return;
    }
    if !app.have_snapshot {
        let line = Line::styled(
            format::fit(" switchyard · waiting for data…", area.width.into()),
            t.header,
        );
        frame.render_widget(Paragraph::new(line).style(t.header), area);
        return;
    }
    let width = usize::from(area.width);
    let badge = badge(app);
    let badge_w = badge.as_ref().map_or(0, |b| b.text.chars().count() + 1);
    let mut segs = segments(app);
    let mut order: Vec<usize> = (0..segs.len()).collect();
    order.sort_by_key(|i| segs[*i].priority);
    let mut used = 1 + badge_w;
    let mut keep = vec![false; segs.len()];
    for i in order {
        let w = segs[i].text.chars().count() + 3;
        if used + w <= width {
            used += w;
            keep[i] = true;
        }
    }
    let mut spans = vec![Span::styled(" ", t.header)];
    for (i, seg) in segs.drain(..).enumerate().filter(|(i, _)| keep[*i]) {
        if spans.len() > 1 {
            spans.push(Span::styled(" · ", t.header));
        }
        let style = if i == 0 {
            seg.style.add_modifier(ratatui::style::Modifier::BOLD)
        } else {
            seg.style
        };
        spans.push(Span::styled(seg.text, style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(t.header), area);
    if let Some(b) = badge {
        let w = (b.text.chars().count() as u16 + 1).min(area.width);
        let at = Rect::new(area.right() - w, area.y, w, 1);
        let text = format::fit(&b.text, usize::from(w));
        frame.render_widget(
            Paragraph::new(Span::styled(text, b.style)).style(b.style),
            at,
        );
    }
}
