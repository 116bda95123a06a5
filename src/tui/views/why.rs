//! The `why` popup: its form, "tracing…", the report (the verdict in words, the chain that
//! decided, the path as a list, the fix), and the question before a fix runs, which shows
//! each command word for word. Foreign names are drawn with control characters escaped.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::popups::question;
use crate::backend::{WhyOutcome, WhyRequest};
use crate::model::why::{Fix, Verdict};
use crate::tui::app::{App, WhyPhase, WhyPopup};
use crate::tui::format::spinner;
use crate::tui::keymap::Action;
use crate::tui::layout;
use crate::tui::theme::Theme;
use crate::tui::wizard::view_form::{draw_scrolled, fields, frame_block, paragraph, FormLines};
use crate::tui::wizard::why::WHY_FIELDS;

use crate::model::why::escape_controls as clean;

/// Draw the popup over `body`.
pub fn draw(frame: &mut Frame, body: Rect, app: &App, w: &WhyPopup) {
    let t = &app.settings.theme;
    let km = &app.settings.keymap;
    // The form is small; the report takes most of the body (its path can be long).
    let area = match w.phase {
        WhyPhase::Form(_) => layout::centered(body, body.width.saturating_sub(4).min(96), 13),
        _ => layout::detail_popup(body),
    };
    let title = match &w.phase {
        WhyPhase::Form(_) => format!("Why · {} · what to trace", clean(&w.network)),
        _ => format!("Why · {}", clean(&w.network)),
    };
    let inner = frame_block(frame, area, t.block(title, true).style(t.popup));
    if inner.is_empty() {
        return;
    }
    let hint_row = inner.height > 4;
    let content = Rect {
        height: inner.height - u16::from(hint_row),
        ..inner
    };
    let width = usize::from(content.width);
    let hint = match &w.phase {
        WhyPhase::Form(form) => {
            let mut lines = FormLines::default();
            fields(
                &mut lines,
                &form.form,
                &WHY_FIELDS,
                Some(form.focused()),
                width,
                t,
            );
            let keep = (lines.focus_row, lines.focus_end);
            lines.push(Line::default());
            lines.lines.extend(paragraph(
                "A probe port joins the network's bridge for a moment and sends one packet, \
                 traced through every table of the host's firewall; it is removed afterwards.",
                width,
                1,
                t.muted,
            ));
            draw_scrolled(frame, content, lines, keep);
            let field_hint = form
                .form
                .get(form.focused())
                .map_or(String::new(), |f| f.hint.clone());
            format!(
                "{} trace · {} close · {field_hint}",
                km.key_label(Action::StepNext),
                km.key_label(Action::StepBack)
            )
        }
        phase => {
            let mut lines = Vec::new();
            match phase {
                WhyPhase::Tracing(_) => {
                    let what = w
                        .request
                        .as_ref()
                        .map(WhyRequest::target)
                        .unwrap_or_default();
                    lines.push(Line::styled(
                        format!(
                            " {} tracing {what} from a probe port on the bridge…",
                            spinner(app.tick)
                        ),
                        t.warning,
                    ));
                }
                WhyPhase::Applying(_, outcome) => {
                    lines.push(Line::styled(
                        format!(
                            " {} running the fix, then tracing again…",
                            spinner(app.tick)
                        ),
                        t.warning,
                    ));
                    lines.push(Line::default());
                    report_lines(w.request.as_ref(), outcome, false, width, t, &mut lines);
                }
                WhyPhase::Failed { message, before } => {
                    let what = if before.is_some() {
                        " ✖ The fix failed (nothing after the failing command ran):"
                    } else {
                        " ✖ The trace could not run:"
                    };
                    lines.push(Line::styled(what, t.error));
                    for l in message.lines() {
                        lines.extend(paragraph(&clean(l), width, 3, t.error));
                    }
                    if let Some(outcome) = before {
                        lines.push(Line::default());
                        report_lines(w.request.as_ref(), outcome, false, width, t, &mut lines);
                    }
                }
                WhyPhase::Report { outcome, fixed } => {
                    report_lines(w.request.as_ref(), outcome, *fixed, width, t, &mut lines);
                }
                WhyPhase::Confirm(outcome) => {
                    report_lines(w.request.as_ref(), outcome, false, width, t, &mut lines);
                }
                WhyPhase::Form(_) => {}
            }
            let room = usize::from(content.height);
            let offset = usize::from(w.scroll).min(lines.len().saturating_sub(room));
            let below = lines.len().saturating_sub(offset + room);
            let shown: Vec<Line> = lines.into_iter().skip(offset).collect();
            frame.render_widget(Paragraph::new(shown), content);
            let runnable = w
                .outcome()
                .and_then(|o| o.report.fix.as_ref())
                .is_some_and(Fix::runnable);
            let mut keys = Vec::new();
            if below > 0 {
                keys.push(format!("▼ {below} more (↓, PgDn)"));
            }
            if matches!(phase, WhyPhase::Report { .. }) && runnable {
                keys.push(format!("{} run the fix", km.key_label(Action::WhyFix)));
            }
            if matches!(phase, WhyPhase::Report { .. } | WhyPhase::Failed { .. }) {
                keys.push(format!("{} trace another", km.key_label(Action::WhyAgain)));
            }
            if matches!(phase, WhyPhase::Confirm(_)) {
                keys.push(format!("{} yes", km.key_label(Action::Confirm)));
                keys.push(format!("{} no", km.key_label(Action::Cancel)));
            } else {
                keys.push(format!("{} close", km.key_label(Action::Close)));
            }
            keys.join(" · ")
        }
    };
    if hint_row {
        let row = Rect::new(inner.x, inner.bottom() - 1, inner.width, 1);
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {hint}"), t.muted)),
            row,
        );
    }
    if let WhyPhase::Confirm(outcome) = &w.phase {
        if let Some(fix) = &outcome.report.fix {
            confirm(frame, body, app, w, fix);
        }
    }
}

/// The question before a fix runs: every command, word for word as it is run (wrapped here,
/// so the question's box is no wider than the screen).
fn confirm(frame: &mut Frame, body: Rect, app: &App, w: &WhyPopup, fix: &Fix) {
    let t = &app.settings.theme;
    let width = usize::from(body.width.saturating_sub(6).min(110));
    let what = if fix.commands.len() == 1 {
        "this command"
    } else {
        "these commands"
    };
    let mut lines = paragraph(
        &format!("Run {what} on this host, for {}?", clean(&w.network)),
        width,
        0,
        t.base,
    );
    lines.push(Line::default());
    for cmd in &fix.commands {
        let text = format!("$ {}", clean(&Fix::command_text(cmd)));
        let mut wrapped = paragraph(&text, width, 4, t.title).into_iter();
        if let Some(first) = wrapped.next() {
            // The first line sits two columns further left than the words it continues.
            let spans: Vec<_> = first.spans.into_iter().skip(1).collect();
            let mut line = Line::from(spans);
            line.spans.insert(0, ratatui::text::Span::raw("  "));
            lines.push(line);
        }
        lines.extend(wrapped);
    }
    lines.push(Line::default());
    lines.extend(paragraph(
        "Each runs as its own program, without a shell, in order; the first that fails \
         stops the rest. Then the packet is traced again.",
        width,
        0,
        t.muted,
    ));
    question(frame, body, app, "Run the fix", lines, Vec::new());
}

/// The report: the verdict in words, who decided, the path, the fix, the notes.
fn report_lines(
    req: Option<&WhyRequest>,
    o: &WhyOutcome,
    fixed: bool,
    width: usize,
    t: &Theme,
    out: &mut Vec<Line<'static>>,
) {
    let r = &o.report;
    if let Some(req) = req {
        out.extend(paragraph(
            &format!("{} from {}", req.target(), o.from),
            width,
            1,
            t.muted,
        ));
    }
    let after = if fixed { "After the fix: " } else { "" };
    let by = r.by.as_ref().map(|b| {
        let what = match (&b.rule, &b.policy) {
            (_, Some(p)) => format!("the chain's policy {}", clean(p)),
            (Some(rule), None) => match b.handle {
                Some(h) => format!("rule {} (handle {h})", clean(rule)),
                None => format!("rule {}", clean(rule)),
            },
            (None, None) => "it".into(),
        };
        format!(
            "table {} {}, chain {}: {what}",
            clean(&b.family),
            clean(&b.table),
            clean(&b.chain)
        )
    });
    let (text, style): (String, Style) = match (r.verdict, by) {
        (Verdict::Delivered, _) => (
            format!("✓ {after}delivered: it left the host toward its destination, no table dropped or rejected it"),
            t.ok,
        ),
        (Verdict::Dropped, Some(by)) => (format!("✖ {after}dropped by {by}"), t.error),
        (Verdict::Rejected, Some(by)) => (format!("✖ {after}rejected by {by}"), t.error),
        (Verdict::Dropped | Verdict::Rejected, None) => (
            format!("✖ {after}{}: no table says where", r.verdict.as_str()),
            t.error,
        ),
        (Verdict::NoRoute, _) => (
            format!("✖ {after}no route: the host did not pass it on"),
            t.error,
        ),
    };
    out.extend(paragraph(&text, width, 1, style));
    out.push(Line::default());
    out.push(Line::styled(
        " Path (hook, table and chain, verdict)",
        t.title,
    ));
    if r.path.is_empty() {
        out.push(Line::styled("   no chain of any table saw it", t.muted));
    }
    let chains: Vec<String> = r
        .path
        .iter()
        .map(|h| clean(&format!("{} {} {}", h.family, h.table, h.chain)))
        .collect();
    let col = chains.iter().map(|c| c.chars().count()).max().unwrap_or(0);
    for (h, chain) in r.path.iter().zip(&chains) {
        let verdict = clean(&h.verdict);
        let hook = clean(&h.hook);
        let style = match h.verdict.as_str() {
            v if v.starts_with("policy drop") || v == "drop" || v == "reject" => t.error,
            v if v.starts_with("accept") || v.starts_with("policy accept") => t.ok,
            _ => t.base,
        };
        let one = format!("   {hook:<11} {chain:<col$}  {verdict}");
        if one.chars().count() <= width {
            out.push(Line::styled(one, style));
        } else {
            out.push(Line::styled(format!("   {hook:<11} {chain}"), style));
            out.push(Line::styled(format!("   {:<11}   → {verdict}", ""), style));
        }
    }
    if let Some(fix) = &r.fix {
        out.push(Line::default());
        let heading = if fix.runnable() {
            " Fix (for this bridge only)"
        } else if fix.commands.is_empty() {
            " What to do"
        } else {
            " Fix (for you to run: switchyard does not run this one)"
        };
        out.push(Line::styled(heading, t.title));
        out.extend(paragraph(&clean(&fix.text()), width, 3, t.base));
    }
    for n in &o.notes {
        out.extend(paragraph(
            &format!("note: {}", clean(n)),
            width,
            1,
            t.warning,
        ));
    }
}
