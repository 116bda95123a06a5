//! Drawing: every function here takes `&App` and a frame, and changes nothing.

mod chrome;
mod filter_bar;
pub mod forwards;
mod header;
mod help;
mod host;
mod leases;
mod log;
mod network_detail;
mod networks;
mod popups;
mod port_detail;
mod ports;
mod why;

use ratatui::widgets::Block;
use ratatui::Frame;

use super::app::{App, Popup, View};
use super::layout;
use super::wizard::{view_attach, view_forward, view_network};

/// Draw the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.is_empty() {
        return;
    }
    frame.render_widget(Block::new().style(app.settings.theme.base), area);
    let screen = layout::screen(area);
    header::draw(frame, screen.header, app);
    chrome::tabs(frame, screen.tabs, app);
    let focused = app.popup().is_none();
    match app.view() {
        View::Networks => networks::draw(frame, screen.body, app, focused),
        View::Ports => ports::draw(frame, screen.body, app, focused),
        View::Leases => leases::draw(frame, screen.body, app, focused),
        View::Host => host::draw(frame, screen.body, app, focused),
        View::Log => log::draw(frame, screen.body, app, focused),
        View::Forwards => forwards::draw(frame, screen.body, app, focused),
    }
    chrome::footer(frame, screen.footer, app);
    for popup in &app.popups {
        match popup {
            Popup::Confirm(c) => popups::confirm(frame, screen.body, app, c),
            Popup::MovePort(m) => popups::move_port(frame, screen.body, app, m),
            Popup::Help { scroll } => help::draw(frame, area, app, *scroll),
            Popup::PortDetail { key, name } => {
                port_detail::draw(frame, screen.body, app, key, name)
            }
            Popup::Filter => {}
            Popup::LogEntry(i) => popups::log_entry(frame, screen.body, app, *i),
            Popup::Wizard(w) => view_network::draw(frame, screen.body, app, w),
            Popup::Attach(f) => view_attach::draw(frame, screen.body, app, f),
            Popup::Forward(f) => view_forward::draw(frame, screen.body, app, f),
            Popup::ForwardTest(v) => forwards::draw_test(frame, screen.body, app, v),
            Popup::Why(w) => why::draw(frame, screen.body, app, w),
        }
    }
}
