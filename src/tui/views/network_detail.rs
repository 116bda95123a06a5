//! The networks view's detail pane: definition summary and runtime state, or the XML on `x`.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::app::{App, Traffic};
use crate::tui::data::{NetMode, NetworkRow};
use crate::tui::format;
use crate::tui::theme::Theme;
use crate::tui::widgets::chart::{self, Series};

fn field<'a>(
    t: &Theme,
    name: &str,
    value: impl Into<String>,
    style: ratatui::style::Style,
) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{name:<11}"), t.muted),
        Span::styled(value.into(), style),
    ])
}

fn definition<'a>(t: &Theme, net: &NetworkRow) -> Vec<Line<'a>> {
    let opt = |v: &Option<String>| format::opt(v.as_deref()).to_string();
    vec![
        Line::styled("Definition", t.title),
        field(t, "name", net.name.clone(), t.base),
        field(t, "mode", net.mode.to_string(), t.base),
        field(t, "bridge", opt(&net.bridge), t.base),
        field(t, "IPv4", format::shown(net.ipv4.as_ref()), t.base),
        field(t, "IPv6", format::shown(net.ipv6.as_ref()), t.base),
        field(t, "DHCP", format::shown(net.dhcp.as_ref()), t.base),
        field(
            t,
            "autostart",
            if net.autostart { "yes" } else { "no" },
            t.base,
        ),
    ]
}

fn runtime<'a>(app: &App, net: &NetworkRow) -> Vec<Line<'a>> {
    let t = &app.settings.theme;
    let traffic = app.network_traffic(&net.name);
    let units = app.settings.units;
    let (dnsmasq, dstyle) = match (net.dnsmasq_pid, net.dhcp.is_some(), net.active) {
        (Some(pid), _, _) => (format!("running, pid {pid}"), t.ok),
        (None, true, true) => ("not running".to_string(), t.warning),
        (None, _, _) => (format::MISSING.to_string(), t.muted),
    };
    let (rules, rstyle) = match (net.firewall_rules, net.active) {
        (0, true) if net.mode != NetMode::Isolated => ("none present".to_string(), t.warning),
        (0, _) => ("none".to_string(), t.muted),
        (n, _) => (format!("{n} present"), t.ok),
    };
    let mut lines = vec![
        Line::styled("Runtime", t.title),
        field(
            t,
            "state",
            if net.active { "active" } else { "inactive" },
            t.state(net.active),
        ),
        field(t, "dnsmasq", dnsmasq, dstyle),
        field(t, "firewall", rules, rstyle),
        field(t, "ports", traffic.ports.to_string(), t.base),
        field(
            t,
            "rx / tx",
            format!(
                "{} / {}",
                format::rate(traffic.rx_bps, units),
                format::rate(traffic.tx_bps, units)
            ),
            t.base,
        ),
        field(t, "totals", totals(&traffic, units), t.base),
    ];
    if let Some(err) = &net.error {
        lines.push(field(t, "error", err.clone(), t.error));
    }
    for warning in &net.warnings {
        lines.push(field(t, "dubious", format!("⚠ {warning}"), t.warning));
    }
    for taint in &net.taints {
        let text = format!("⚠ tainted: {taint} (passed to dnsmasq unchecked)");
        lines.push(field(t, "taint", text, t.warning));
    }
    match net.drift.as_slice() {
        [] => lines.push(field(t, "drift", "none", t.ok)),
        drift => lines.extend(
            drift
                .iter()
                .map(|d| field(t, "drift", format!("⚠ {d}"), t.warning)),
        ),
    }
    lines
}

/// Bytes through the network's ports since their counters began: "rx 427 Mb / tx 2.05 Gb".
fn totals(traffic: &Traffic, units: format::Units) -> String {
    let total =
        |b: Option<u64>| b.map_or_else(|| format::MISSING.to_owned(), |b| format::total(b, units));
    format!(
        "rx {} / tx {}",
        total(traffic.rx_bytes),
        total(traffic.tx_bytes)
    )
}

/// Columns a port or lease line of a member section takes.
const MEMBER_LINE: u16 = 72;

/// The sections listing what the network carries, each a title line and its rows, in the
/// order they are shown: its ports (guest, address, rates), then its leases (address, MAC,
/// host name, time left). A section with nothing to list is left out. Further kinds of
/// member are one more function here.
fn sections<'a>(app: &App, net: &NetworkRow) -> Vec<Vec<Line<'a>>> {
    [ports(app, net), leases(app, net)]
        .into_iter()
        .flatten()
        .collect()
}

/// The network's ports: interface, guest, address, rx and tx rates.
fn ports<'a>(app: &App, net: &NetworkRow) -> Option<Vec<Line<'a>>> {
    let t = &app.settings.theme;
    let units = app.settings.units;
    let ports: Vec<_> = app
        .snapshot()
        .ports
        .iter()
        .filter(|p| p.network.as_deref() == Some(net.name.as_str()))
        .collect();
    if ports.is_empty() {
        return None;
    }
    let mut lines = vec![Line::styled(format!("Ports ({})", ports.len()), t.title)];
    for p in ports {
        let rate = p.rate;
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<12}", p.ifname), t.base),
            Span::styled(format!("{:<16}", format::opt(p.guest.as_deref())), t.base),
            Span::styled(format!("{:<16}", format::shown(p.ip.as_ref())), t.base),
            Span::styled(
                format!("{:>10}", format::rate(rate.map(|r| r.rx_bps), units)),
                t.rx,
            ),
            Span::styled(
                format!(" {:>10}", format::rate(rate.map(|r| r.tx_bps), units)),
                t.tx,
            ),
        ]));
    }
    Some(lines)
}

/// The network's leases: address, MAC, host name, time left.
fn leases<'a>(app: &App, net: &NetworkRow) -> Option<Vec<Line<'a>>> {
    let t = &app.settings.theme;
    let leases: Vec<_> = app
        .snapshot()
        .leases
        .iter()
        .filter(|l| l.network == net.name)
        .collect();
    if leases.is_empty() {
        return None;
    }
    let mut lines = vec![Line::styled(format!("Leases ({})", leases.len()), t.title)];
    let now = app.now_unix();
    for l in leases {
        let left = format::lease_expires(l, now);
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<16}", l.ip), t.base),
            Span::styled(format!("{:<18}", format::shown(l.mac.as_ref())), t.base),
            Span::styled(
                format!("{:<16}", format::opt(l.hostname.as_deref())),
                t.base,
            ),
            Span::styled(left, t.muted),
        ]));
    }
    Some(lines)
}

/// Rows the network's chart takes at least, borders included.
const CHART_MIN: u16 = 8;
/// Rows the network's chart takes at most.
const CHART_MAX: u16 = 20;

/// The network's port forwards, one compact line each: port, target, rate. Nothing when it
/// has none.
fn forwards<'a>(app: &App, net: &NetworkRow) -> Vec<Line<'a>> {
    let t = &app.settings.theme;
    let list: Vec<_> = app
        .snapshot()
        .forwards
        .iter()
        .filter(|f| f.network == net.name)
        .collect();
    if list.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![
        Line::default(),
        Line::styled(format!("Forwards ({}, 6: all)", list.len()), t.title),
    ];
    for f in list {
        let port = format!("{}/{}", f.forward.proto, f.forward.port);
        let target = format!(
            "{}:{}",
            super::forwards::target_label(f),
            f.forward.target_ports()
        );
        let rate = match f.hit_rate {
            Some(_) => format!("{}/s", format::events_per_sec(f.hit_rate)),
            None => format::opt(None).to_owned(),
        };
        // Narrow enough for the right column at 80 columns; the Forwards view has the rest.
        lines.push(Line::from(vec![
            Span::styled(format!("  {port:<8} → "), t.base),
            Span::styled(format!("{:<14} ", format::fit(&target, 14)), t.base),
            Span::styled(rate, t.muted),
        ]));
    }
    lines
}

/// Draw the pane for `net`.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, net: &NetworkRow) {
    if app.show_xml {
        return draw_xml(frame, area, app, net);
    }
    let t = &app.settings.theme;
    let block = t.block(format!("{} — detail (x: XML)", net.name), false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (def, mut run) = (definition(t, net), runtime(app, net));
    run.extend(forwards(app, net));
    let def_w = def.iter().map(Line::width).max().unwrap_or(0) as u16 + 3;
    if inner.width < def_w + 30 {
        return draw_narrow(frame, inner, def, run);
    }
    // The runtime's rows as wrapped beside the definition (a long drift line takes more).
    let run_w = usize::from(inner.width - def_w).max(1);
    let run_rows: usize = run.iter().map(|l| l.width().max(1).div_ceil(run_w)).sum();
    let top_h = def.len().max(run_rows) as u16;
    // Below them the traffic chart and the member sections, when the pane is tall and wide
    // enough for a member's row on one line (a large terminal); else they have the pane.
    let large = inner.height >= top_h + CHART_MIN + 2 && inner.width - def_w >= MEMBER_LINE;
    let [top, rest] = if large {
        Layout::vertical([Constraint::Length(top_h), Constraint::Fill(1)]).areas(inner)
    } else {
        [inner, Rect::default()]
    };
    let [l, r] = Layout::horizontal([Constraint::Length(def_w), Constraint::Fill(1)]).areas(top);
    frame.render_widget(Paragraph::new(def), l);
    frame.render_widget(Paragraph::new(run).wrap(Wrap { trim: false }), r);
    if !large {
        return;
    }
    let sections = sections(app, net);
    // The chart takes what the sections leave, within its bounds; sections that do not fit
    // below it are cut at the pane's bottom.
    let chart_h = rest
        .height
        .saturating_sub(sections_height(&sections, rest.width))
        .clamp(CHART_MIN, CHART_MAX);
    let [chart_area, members] =
        Layout::vertical([Constraint::Length(chart_h), Constraint::Fill(1)]).areas(rest);
    draw_chart(frame, chart_area, app, net);
    draw_sections(frame, members, sections);
}

/// The XML pane: the definition, scrolled, its last page ending at its last line.
fn draw_xml(frame: &mut Frame, area: Rect, app: &App, net: &NetworkRow) {
    let t = &app.settings.theme;
    let block = t.block(
        format!("{} — XML (x: summary, PgUp/PgDn: scroll)", net.name),
        false,
    );
    let lines: Vec<Line> = net
        .xml()
        .lines()
        .map(|l| Line::styled(l.to_string(), t.base))
        .collect();
    // The last page ends at the last line: no blank pages below it.
    let inner = area.height.saturating_sub(2);
    let scroll = app
        .xml_scroll
        .min((lines.len() as u16).saturating_sub(inner));
    let para = Paragraph::new(lines).block(block).scroll((scroll, 0));
    frame.render_widget(para, area);
}

/// A narrow pane: the runtime first (what changes), then the definition, wrapped.
fn draw_narrow(frame: &mut Frame, inner: Rect, def: Vec<Line>, run: Vec<Line>) {
    let mut all = run;
    all.push(Line::default());
    all.extend(def);
    frame.render_widget(Paragraph::new(all).wrap(Wrap { trim: false }), inner);
}

/// The network's traffic: rx and tx summed over its ports, one point per refresh.
fn draw_chart(frame: &mut Frame, area: Rect, app: &App, net: &NetworkRow) {
    let t = &app.settings.theme;
    let traffic = app.network_traffic(&net.name);
    let title = format!(
        "traffic of its {} port{}, one point per refresh",
        traffic.ports,
        if traffic.ports == 1 { "" } else { "s" }
    );
    let series = match app.network_history(&net.name) {
        Some(h) => Series::new(h, title, false, app.interval_ms() as f64 / 1000.0, "s"),
        None => Series {
            title,
            rx: Vec::new(),
            tx: Vec::new(),
            step: 1.0,
            unit: "s",
        },
    };
    chart::draw(frame, area, t, app.settings.units, &series);
}

/// Columns each section takes side by side: its widest line and a gap.
fn section_widths(sections: &[Vec<Line>]) -> Vec<u16> {
    sections
        .iter()
        .map(|s| s.iter().map(Line::width).max().unwrap_or(0) as u16 + 2)
        .collect()
}

/// Rows the sections take `width` columns wide: side by side when they all fit, else one
/// under the other with a blank line between.
fn sections_height(sections: &[Vec<Line>], width: u16) -> u16 {
    let rows = if section_widths(sections).iter().sum::<u16>() <= width {
        sections.iter().map(Vec::len).max().unwrap_or(0)
    } else {
        sections.iter().map(Vec::len).sum::<usize>() + sections.len().saturating_sub(1)
    };
    rows as u16
}

/// The member sections side by side when they all fit, else one under the other.
fn draw_sections(frame: &mut Frame, area: Rect, sections: Vec<Vec<Line>>) {
    if sections.is_empty() {
        return;
    }
    let widths = section_widths(&sections);
    if widths.iter().sum::<u16>() <= area.width {
        let areas = Layout::horizontal(widths.iter().map(|w| Constraint::Length(*w))).split(area);
        for (section, a) in sections.into_iter().zip(areas.iter()) {
            frame.render_widget(Paragraph::new(section), *a);
        }
        return;
    }
    let mut all = Vec::new();
    for section in sections {
        if !all.is_empty() {
            all.push(Line::default());
        }
        all.extend(section);
    }
    frame.render_widget(Paragraph::new(all), area);
}
