//! Mouse input where the terminal sends it: click a tab, click a row, scroll with the wheel.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use super::popup::Popup;
use super::App;
use crate::tui::event::Effect;
use crate::tui::keymap::Action;
use crate::tui::layout;

/// Rows one wheel notch moves.
const WHEEL_ROWS: isize = 3;

impl App {
    pub(crate) fn on_mouse(&mut self, mouse: MouseEvent) -> Vec<Effect> {
        let at = Position::new(mouse.column, mouse.row);
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) if self.popups.is_empty() => self.click(at),
            MouseEventKind::ScrollDown => self.wheel(WHEEL_ROWS),
            MouseEventKind::ScrollUp => self.wheel(-WHEEL_ROWS),
            _ => {}
        }
        vec![]
    }

    fn click(&mut self, at: Position) {
        let screen = self.screen();
        if screen.tabs.contains(at) {
            let hit = layout::tabs(screen.tabs)
                .into_iter()
                .find(|t| at.x >= t.x && at.x < t.x + t.label.chars().count() as u16);
            if let Some(tab) = hit {
                self.switch_view(tab.view);
            }
            return;
        }
        let rows = layout::table_rows(self.table_area());
        if !rows.contains(at) {
            return;
        }
        let height = usize::from(rows.height);
        let (list, len) = self.current_list();
        let index = list.window(height) + usize::from(at.y - rows.y);
        if index < len {
            list.offset = list.window(height);
            list.selected = index;
            self.touch();
        }
    }

    fn wheel(&mut self, rows: isize) {
        match self.popups.last() {
            Some(Popup::Help { .. }) => {
                let action = if rows > 0 { Action::Down } else { Action::Up };
                for _ in 0..rows.unsigned_abs() {
                    self.popup_scroll(action);
                }
            }
            Some(_) => {}
            None => {
                let page = self.page_rows();
                let (list, len) = self.current_list();
                list.move_by(rows, len);
                list.scroll_into_view(page);
                self.touch();
            }
        }
    }
}
