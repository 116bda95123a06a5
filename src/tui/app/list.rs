//! Selection and scrolling of one list (pure arithmetic, shared by every table).

/// Selected row and first visible row of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListState {
    /// Index of the selected row (0 when the list is empty).
    pub selected: usize,
    /// Index of the first visible row, as last scrolled.
    pub offset: usize,
    /// Rows in the list when last told (by `clamp`, a move or `last`).
    pub len: usize,
}

impl ListState {
    /// Keep the selection inside a list of `len` rows.
    pub fn clamp(&mut self, len: usize) {
        self.len = len;
        self.selected = self.selected.min(len.saturating_sub(1));
        self.offset = self.offset.min(self.selected);
    }

    /// Move by `delta` rows, stopping at the ends.
    pub fn move_by(&mut self, delta: isize, len: usize) {
        self.len = len;
        let last = len.saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    /// Select the first row.
    pub fn first(&mut self) {
        self.selected = 0;
    }

    /// Select the last row.
    pub fn last(&mut self, len: usize) {
        self.len = len;
        self.selected = len.saturating_sub(1);
    }

    /// The first row to show in a window of `height` rows so the selection is visible, moving
    /// the window as little as possible from the last offset, and never leaving rows of the
    /// list unshown below a window that could hold them (a window that grew, a list that
    /// shrank: the scroll is re-clamped on every resize and data change).
    pub fn window(&self, height: usize) -> usize {
        let mut start = self
            .offset
            .min(self.selected)
            .min(self.len.saturating_sub(height));
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
            len: 10,
        };
        s.clamp(3);
        assert_eq!((s.selected, s.offset), (2, 2));
    }

    /// Shrink the window (the list scrolls to keep the selection), grow it back: every row
    /// fits again, so the window starts at the top instead of showing the last two rows.
    #[test]
    fn a_window_that_grows_back_shows_the_whole_list() {
        let mut s = ListState::default();
        s.last(8);
        s.scroll_into_view(2);
        assert_eq!(s.window(2), 6);
        s.scroll_into_view(20);
        assert_eq!(s.window(20), 0, "all 8 rows fit");
        // A longer list in a middle-sized window: as few blank rows as possible.
        s.clamp(30);
        s.offset = 25;
        s.selected = 29;
        assert_eq!(s.window(10), 20);
    }
}
