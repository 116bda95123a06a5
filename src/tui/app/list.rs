//! Selection and scrolling of one list (pure arithmetic, shared by every table).

/// Selected row and first visible row of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListState {
    /// Index of the selected row (0 when the list is empty).
    pub selected: usize,
    /// Index of the first visible row, as last scrolled.
    pub offset: usize,
}

impl ListState {
    /// Keep the selection inside a list of `len` rows.
    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
        self.offset = self.offset.min(self.selected);
    }

    /// Move by `delta` rows, stopping at the ends.
    pub fn move_by(&mut self, delta: isize, len: usize) {
        let last = len.saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    /// Select the first row.
    pub fn first(&mut self) {
        self.selected = 0;
    }

    /// Select the last row.
    pub fn last(&mut self, len: usize) {
        self.selected = len.saturating_sub(1);
    }

    /// The first row to show in a window of `height` rows so the selection is visible, moving
    /// the window as little as possible from the last offset.
    pub fn window(&self, height: usize) -> usize {
        let mut start = self.offset.min(self.selected);
        if height > 0 && self.selected >= start + height {
            start = self.selected + 1 - height;
        }
        start
    }

    /// Remember the window for `height` rows (after a move), so scrolling stays smooth.
    pub fn scroll_into_view(&mut self, height: usize) {
        self.offset = self.window(height);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_stop_at_the_ends() {
        let mut s = ListState::default();
        s.move_by(-1, 5);
        assert_eq!(s.selected, 0);
        s.move_by(10, 5);
        assert_eq!(s.selected, 4);
        s.move_by(1, 0);
        assert_eq!(s.selected, 0);
    }

    #[test]
    fn window_follows_selection_minimally() {
        let mut s = ListState::default();
        for _ in 0..7 {
            s.move_by(1, 100);
            s.scroll_into_view(5);
        }
        assert_eq!((s.selected, s.offset), (7, 3));
        s.move_by(-2, 100);
        s.scroll_into_view(5);
        assert_eq!(s.offset, 3, "moving inside the window does not scroll");
        s.move_by(-4, 100);
        s.scroll_into_view(5);
        assert_eq!((s.selected, s.offset), (1, 1));
    }

    #[test]
    fn clamp_after_shrink() {
        let mut s = ListState {
            selected: 9,
            offset: 7,
        };
        s.clamp(3);
        assert_eq!((s.selected, s.offset), (2, 2));
    }
}
