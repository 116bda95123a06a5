//! An rx/tx rate chart over a [`History`], shared by the port detail and the network detail:
//! braille lines, a time axis ending at "now", a rate axis from 0, and an rx/tx legend in the
//! title (ratatui's own legend hides itself in small charts, which are the common case at 80
//! columns).

use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph};
use ratatui::Frame;

use crate::telemetry::{History, Metric};
use crate::tui::format::{self, Units};
use crate::tui::theme::Theme;

/// What the legend draws for a series: a short line in the series' colour.
pub const LEGEND_MARK: &str = "━━";

/// One chart's data: rx and tx over time, `step` x-units apart, newest last.
pub struct Series {
    /// The chart's title, before the legend.
    pub title: String,
    /// Received bits/s, oldest first.
    pub rx: Vec<f64>,
    /// Transmitted bits/s, oldest first.
    pub tx: Vec<f64>,
    /// X distance between two points.
    pub step: f64,
    /// The x unit: "s" (one point per refresh) or "min" (one average per minute).
    pub unit: &'static str,
}

impl Series {
    /// The fine (`coarse` false) or minute ring of `history`.
    pub fn new(
        history: &History,
        title: String,
        coarse: bool,
        step: f64,
        unit: &'static str,
    ) -> Self {
        let get = |m| -> Vec<f64> {
            if coarse {
                history.coarse(m).collect()
            } else {
                history.fine(m).collect()
            }
        };
        Self {
            title,
            rx: get(Metric::RxBps),
            tx: get(Metric::TxBps),
            step,
            unit,
        }
    }

    /// Points with the newest at x = 0.
    fn points(&self, v: &[f64]) -> Vec<(f64, f64)> {
        let n = v.len();
        v.iter()
            .enumerate()
            .map(|(i, y)| (-((n - 1 - i) as f64) * self.step, *y))
            .collect()
    }
}

/// The block of a chart: its title, then "━━ rx ━━ tx" in the series' colours.
pub fn titled<'a>(t: &Theme, title: &str) -> Block<'a> {
    let legend = Line::from(vec![
        Span::styled(format!(" {title} "), t.title),
        Span::styled(LEGEND_MARK, t.rx),
        Span::styled(" rx ", t.muted),
        Span::styled(LEGEND_MARK, t.tx),
        Span::styled(" tx ", t.muted),
    ]);
    Block::bordered().border_style(t.border).title(legend)
}

/// Draw `s` in `area`; with fewer than two points, say what a line needs instead.
pub fn draw(frame: &mut Frame, area: Rect, t: &Theme, units: Units, s: &Series) {
    let block = titled(t, &s.title);
    if s.rx.len() < 2 {
        let msg = format!(
            "a line needs two points: one per {}",
            if s.unit == "s" {
                "refresh"
            } else {
                "full minute"
            }
        );
        let msg = Paragraph::new(Span::styled(msg, t.muted)).block(block);
        frame.render_widget(msg, area);
        return;
    }
    let (rxp, txp) = (s.points(&s.rx), s.points(&s.tx));
    let max =
        s.rx.iter()
            .chain(&s.tx)
            .copied()
            .fold(0.0_f64, f64::max)
            .max(1.0)
            * 1.1;
    let span = (s.rx.len() - 1) as f64 * s.step;
    let line = |name: &'static str, style, data| {
        Dataset::default()
            .name(name)
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(style)
            .data(data)
    };
    let datasets = vec![line("rx", t.rx, &rxp), line("tx", t.tx, &txp)];
    let x = Axis::default()
        .bounds([-span, 0.0])
        .labels([
            Span::styled(format!("-{span:.0}{}", s.unit), t.muted),
            Span::styled("now", t.muted),
        ])
        .style(t.muted);
    let y = Axis::default()
        .bounds([0.0, max])
        .labels([
            Span::styled("0", t.muted),
            Span::styled(format::rate(Some(max), units), t.muted),
        ])
        .style(t.muted);
    let chart = Chart::new(datasets)
        .block(block)
        .x_axis(x)
        .y_axis(y)
        // The title carries the legend: never a second one inside the plot.
        .legend_position(None)
        .style(t.base);
    frame.render_widget(chart, area);
}
