//! The networks view's detail pane: definition summary and runtime state, or the XML on `x`.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::app::App;
use crate::tui::data::{NetMode, NetworkRow};
use crate::tui::format;
use crate::tui::theme::Theme;

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

/// Columns a port or lease line of [`members`] takes.
const MEMBER_LINE: u16 = 72;

/// The network's ports (guest, address, rates) and leases (address, MAC, host name, time
/// left), for a tall pane: what it carries, in one place.
fn members<'a>(app: &App, net: &NetworkRow) -> Vec<Line<'a>> {
    let t = &app.settings.theme;
    let units = app.settings.units;
    let snap = app.snapshot();
    let ports: Vec<_> = snap
        .ports
        .iter()
        .filter(|p| p.network.as_deref() == Some(net.name.as_str()))
        .collect();
    let leases: Vec<_> = snap
        .leases
        .iter()
        .filter(|l| l.network == net.name)
        .collect();
    if ports.is_empty() && leases.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![
        Line::default(),
        Line::styled(format!("Ports ({})", ports.len()), t.title),
    ];
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
    lines.push(Line::default());
    lines.push(Line::styled(format!("Leases ({})", leases.len()), t.title));
    let now = app.now_unix();
    for l in leases {
        let left = format::expires_in(l.expiry, now);
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
    lines
}

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
    let t = &app.settings.theme;
    if app.show_xml {
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
        return;
    }
    let block = t.block(format!("{} — detail (x: XML)", net.name), false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let (def, mut run) = (definition(t, net), runtime(app, net));
    run.extend(forwards(app, net));
    let def_w = def.iter().map(Line::width).max().unwrap_or(0) as u16 + 3;
    // Ports and leases where their rows fit on one line each (a wide terminal).
    if inner.width.saturating_sub(def_w) >= MEMBER_LINE {
        run.extend(members(app, net));
    }
    if inner.width >= def_w + 30 {
        let [l, r] =
            Layout::horizontal([Constraint::Length(def_w), Constraint::Fill(1)]).areas(inner);
        frame.render_widget(Paragraph::new(def), l);
        frame.render_widget(Paragraph::new(run).wrap(Wrap { trim: false }), r);
    } else {
        let mut all = run;
        all.push(Line::default());
        all.extend(def);
        frame.render_widget(Paragraph::new(all).wrap(Wrap { trim: false }), inner);
    }
}
