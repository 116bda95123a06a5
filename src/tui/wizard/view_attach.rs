//! Drawing the macvtap form: fields, what the chosen network means, the device and QEMU line
//! the guest will use, and the backend's answer.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use super::attach::{AttachForm, AttachState};
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
            body.lines.extend(paragraph(l, width, 3, t.base));
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
