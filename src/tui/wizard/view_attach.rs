//! Drawing the macvtap form: fields, what the chosen network means, the device and QEMU line
//! the guest will use, and the backend's answer.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use super::attach::{AttachForm, AttachState, QEMU_PREFIX};
use super::field::FieldId;
use super::view_form::{draw_scrolled, fields, frame_block, paragraph, FormLines};
use crate::tui::app::App;
use crate::tui::format::spinner;

/// Draw the form over `area`.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, form: &AttachForm) {
    let t = &app.settings.theme;
    let inner = frame_block(
        frame,
        area,
        t.block("Attach a macvtap", true).style(t.popup),
    );
    if inner.is_empty() {
        return;
    }
    let width = usize::from(inner.width);
    let mut body = FormLines::default();
    let ids = [FieldId::Network, FieldId::IfName, FieldId::Mac];
    fields(&mut body, &form.form, &ids, Some(form.focused()), width, t);
    let keep = (body.focus_row, body.focus_end);
    body.push(Line::default());
    if let Some(net) = form.network() {
        let about = format!(
            "Mode {}: {}. The backend picks the NIC of {} with the fewest macvtaps. The host cannot reach the guest through it.",
            net.mode.label(),
            net.mode.explain(),
            net.pool.join(", ")
        );
        body.lines.extend(paragraph(&about, width, 1, t.muted));
    }
    let mac = form.mac().map_or("<mac>".to_string(), |m| m.to_string());
    let result = |title: &str, text: &str, style, body: &mut FormLines| {
        body.push(Line::styled(format!(" {title}"), style));
        for l in text.lines() {
            if l.starts_with(QEMU_PREFIX) {
                continue;
            }
            body.lines.extend(paragraph(l, width, 3, t.base));
        }
        // The QEMU line on one row of its own, never wrapped: scrolled with ←/→, so a terminal
        // selection copies it as one line.
        if let Some(qemu) = form.qemu_line() {
            let skip = form.qemu_scroll().min(qemu.chars().count());
            let left = if skip > 0 { "‹" } else { " " };
            let shown: String = qemu.chars().skip(skip).collect();
            let room = width.saturating_sub(4);
            let (window, more) = if shown.chars().count() > room {
                let cut: String = shown.chars().take(room.saturating_sub(1)).collect();
                (cut, "›")
            } else {
                (shown, "")
            };
            body.push(Line::styled(
                " QEMU line (←/→ scroll, Home/End; attach --json has it as \"qemu\"):",
                t.muted,
            ));
            body.push(Line::from(vec![
                ratatui::text::Span::styled(format!("  {left}"), t.muted),
                ratatui::text::Span::styled(window, t.base),
                ratatui::text::Span::styled(more, t.muted),
            ]));
        }
    };
    match form.state() {
        AttachState::Editing => {
            body.push(Line::styled(" The guest will use:", t.title));
            let device = "device /dev/tapN (N = the new link's index, shown once made)";
            body.lines.extend(paragraph(device, width, 3, t.base));
            let qemu = format!("QEMU -netdev tap,id=net0,fd=3 -device virtio-net-pci,netdev=net0,mac={mac} 3<>/dev/tapN");
            body.lines.extend(paragraph(&qemu, width, 3, t.base));
        }
        AttachState::Running(_) => body.push(Line::styled(
            format!(" {} attaching…", spinner(app.tick)),
            t.warning,
        )),
        AttachState::Done(msg) => result(
            "✓ Attached; copy what the guest needs:",
            msg,
            t.ok,
            &mut body,
        ),
        AttachState::Failed(msg) => result("✖ Attach failed:", msg, t.error, &mut body),
    }
    draw_scrolled(frame, inner, body, keep);
}
