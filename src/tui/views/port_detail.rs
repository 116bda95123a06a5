//! The port detail popup: identity, current rates and totals, and charts of the fine history
//! (one point per refresh) and the minute history.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use crate::telemetry::{History, PortKey};
use crate::tui::app::App;
use crate::tui::data::PortRow;
use crate::tui::format;
use crate::tui::layout;
use crate::tui::widgets::chart::{self, Series};

fn info<'a>(app: &App, port: &PortRow, width: u16) -> Vec<Line<'a>> {
    let t = &app.settings.theme;
    let units = app.settings.units;
    let rate = port.rate;
    let opt = |v: &Option<String>| format::opt(v.as_deref()).to_string();
    let r = |f: fn(&crate::telemetry::Rates) -> f64| rate.as_ref().map(f);
    let c = port.counters.as_ref();
    let count = |f: fn(&crate::telemetry::LinkCounters) -> u64| c.map(f);
    let total = |f: fn(&crate::telemetry::LinkCounters) -> u64| {
        count(f).map_or_else(|| format::MISSING.to_owned(), |b| format::total(b, units))
    };
    let pair = |a: fn(&crate::telemetry::LinkCounters) -> u64,
                b: fn(&crate::telemetry::LinkCounters) -> u64| match c {
        Some(c) => format!("{}/{}", format::count(a(c)), format::count(b(c))),
        None => format::MISSING.to_owned(),
    };
    let kv = |k: &str, v: String, s: Style| {
        vec![
            Span::styled(format!("{k} "), t.muted),
            Span::styled(v, s),
            Span::raw("  "),
        ]
    };
    let state = if port.up { "up" } else { "down" };
    let where_ = [
        kv("kind", port.kind.name().to_owned(), t.base),
        kv("bridge", opt(&port.bridge), t.base),
        kv("network", opt(&port.network), t.base),
        kv("link", state.into(), t.state(port.up)),
    ];
    let addr = [
        kv("MAC", format::shown(port.mac.as_ref()), t.base),
        kv("IP", format::shown(port.ip.as_ref()), t.base),
        kv("MTU", port.mtu.to_string(), t.base),
    ];
    let line2 = [
        kv("rx", format::rate(r(|r| r.rx_bps), units), t.rx),
        kv(
            "",
            format!("{} pkt/s", format::per_sec(r(|r| r.rx_pps))),
            t.base,
        ),
        kv("tx", format::rate(r(|r| r.tx_bps), units), t.tx),
        kv(
            "",
            format!("{} pkt/s", format::per_sec(r(|r| r.tx_pps))),
            t.base,
        ),
    ];
    let bad = c.is_some_and(|c| c.rx_dropped + c.tx_dropped + c.rx_errors + c.tx_errors > 0);
    let line3 = [
        kv("total rx", total(|c| c.rx_bytes), t.base),
        kv("tx", total(|c| c.tx_bytes), t.base),
        kv(
            "drops",
            pair(|c| c.rx_dropped, |c| c.tx_dropped),
            if bad { t.warning } else { t.base },
        ),
        kv(
            "errors",
            pair(|c| c.rx_errors, |c| c.tx_errors),
            if bad { t.warning } else { t.base },
        ),
    ];
    let mut lines = vec![
        where_.concat(),
        addr.concat(),
        line2.concat(),
        line3.concat(),
    ];
    if width >= 100 {
        let addr = lines.remove(1);
        lines[0].extend(addr);
    }
    lines.into_iter().map(Line::from).collect()
}

fn charts(frame: &mut Frame, area: Rect, app: &App, history: &History) {
    let t = &app.settings.theme;
    let units = app.settings.units;
    let step = app.interval_ms() as f64 / 1000.0;
    let fine_title = format!("last {} samples, one per refresh", history.fine_len());
    let fine = Series::new(history, fine_title, false, step, "s");
    if area.height < 16 {
        chart::draw(frame, area, t, units, &fine);
        return;
    }
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    chart::draw(frame, top, t, units, &fine);
    let coarse_title = format!("last {} min, one average per minute", history.coarse_len());
    chart::draw(
        frame,
        bottom,
        t,
        units,
        &Series::new(history, coarse_title, true, 1.0, "min"),
    );
}

/// Draw the popup for the port with `key`; `gone_name` is what it was called when the popup
/// opened, shown if it is gone.
pub fn draw(frame: &mut Frame, body: Rect, app: &App, key: &PortKey, gone_name: &str) {
    let t = &app.settings.theme;
    let area = layout::detail_popup(body);
    frame.render_widget(Clear, area);
    let port = app.snapshot().ports.iter().find(|p| p.is(key));
    let name = port.map_or(gone_name, |p| p.ifname.as_str());
    let title = match port.and_then(|p| p.guest.as_deref()) {
        Some(g) => format!("Port {name} — {g} (Esc: close)"),
        None => format!("Port {name} (Esc: close)"),
    };
    let block = t.block(title, true).style(t.popup);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(port) = port else {
        frame.render_widget(
            Paragraph::new(Span::styled("this port is gone", t.warning)),
            inner,
        );
        return;
    };
    let info = info(app, port, inner.width);
    let [top, rest] =
        Layout::vertical([Constraint::Length(info.len() as u16), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(Paragraph::new(info), top);
    match app.rates().history(key) {
        Some(h) if rest.height >= 5 => charts(frame, rest, app, h),
        _ => {}
    }
}
