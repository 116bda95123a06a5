//! What the sortable, filterable tables (ports, leases) share: the state (selection, sort
//! column and direction, filter text, visible order), one way to compare sort keys (missing
//! values last), one way to recompute the order, and the `o`/`O`/`/` actions on the current
//! view. Each table brings only its columns, its filter fields and its row identity.

use std::cmp::Ordering;
use std::net::IpAddr;

use tui_input::Input;

use super::list::ListState;
use super::popup::Popup;
use super::{App, View};
use crate::tui::keymap::Action;

/// A table's sort columns, in the order `o` cycles through them (the first is the default).
pub trait SortColumn: Copy + Eq + Default + 'static {
    /// Every column, in cycling order.
    const ALL: &'static [Self];

    /// The next column.
    fn next(self) -> Self {
        let i = Self::ALL
            .iter()
            .position(|s| *s == self)
            .expect("every sort is in ALL");
        Self::ALL[(i + 1) % Self::ALL.len()]
    }
}

/// State of a sortable, filterable table.
#[derive(Debug, Default)]
pub struct TableState<S> {
    /// Selection within `order`.
    pub list: ListState,
    /// Sort column.
    pub sort: S,
    /// Whether the sort is reversed.
    pub reverse: bool,
    /// Filter text being typed or applied.
    pub filter: Input,
    /// Indices into the snapshot's rows: filtered and sorted.
    pub order: Vec<usize>,
}

/// The value a row is sorted by. Text, addresses and times sort ascending, numbers (traffic)
/// biggest first; a missing value always goes last, reversed or not.
#[derive(Debug, PartialEq, PartialOrd)]
pub(crate) enum SortKey {
    /// A→Z.
    Text(Option<String>),
    /// Lowest address first.
    Ip(Option<IpAddr>),
    /// An address within a named scope (network, then address).
    Scoped(Option<(String, IpAddr)>),
    /// Soonest first (unix seconds).
    Time(Option<u64>),
    /// Biggest first.
    Num(Option<f64>),
}

impl SortKey {
    fn present(&self) -> bool {
        match self {
            SortKey::Text(v) => v.is_some(),
            SortKey::Ip(v) => v.is_some(),
            SortKey::Scoped(v) => v.is_some(),
            SortKey::Time(v) => v.is_some(),
            SortKey::Num(v) => v.is_some(),
        }
    }

    /// Compare with missing values last; `reverse` flips only the present ones.
    pub(crate) fn compare(&self, other: &SortKey, reverse: bool) -> Ordering {
        match (self.present(), other.present()) {
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => return Ordering::Equal,
            _ => {}
        }
        let natural = match (self, other) {
            (SortKey::Num(x), SortKey::Num(y)) => y.partial_cmp(x).unwrap_or(Ordering::Equal),
            _ => self.partial_cmp(other).unwrap_or(Ordering::Equal),
        };
        if reverse {
            natural.reverse()
        } else {
            natural
        }
    }
}

/// Whether any of `fields` contains `needle` (already lower case), ignoring case.
pub(crate) fn any_contains<'a>(fields: impl IntoIterator<Item = &'a str>, needle: &str) -> bool {
    fields
        .into_iter()
        .any(|f| f.to_lowercase().contains(needle))
}

impl<S: SortColumn> TableState<S> {
    /// `o` picks the next column (ascending), `O` reverses.
    pub(crate) fn change_sort(&mut self, action: Action) {
        if action == Action::SortNext {
            self.sort = self.sort.next();
            self.reverse = false;
        } else {
            self.reverse = !self.reverse;
        }
    }

    /// The filter as matched: trimmed, lower case; empty shows everything.
    pub(crate) fn needle(&self) -> String {
        self.filter.value().trim().to_lowercase()
    }

    /// Recompute `order` over `rows`: those `matches` accepts, by `key` then `tie`; the row
    /// `keep` accepts stays selected if it is still visible.
    pub(crate) fn reorder<T>(
        &mut self,
        rows: &[T],
        matches: impl Fn(&T) -> bool,
        key: impl Fn(&T) -> SortKey,
        tie: impl Fn(&T, &T) -> Ordering,
        keep: Option<&dyn Fn(&T) -> bool>,
    ) {
        let mut keyed: Vec<(usize, SortKey)> = (0..rows.len())
            .filter(|i| matches(&rows[*i]))
            .map(|i| (i, key(&rows[i])))
            .collect();
        let reverse = self.reverse;
        keyed.sort_by(|(ia, a), (ib, b)| {
            a.compare(b, reverse)
                .then_with(|| tie(&rows[*ia], &rows[*ib]))
        });
        self.order = keyed.into_iter().map(|(i, _)| i).collect();
        if let Some(keep) = keep {
            if let Some(pos) = self.order.iter().position(|i| keep(&rows[*i])) {
                self.list.selected = pos;
            }
        }
        self.list.clamp(self.order.len());
    }
}

impl App {
    /// Whether `view` shows its filter bar: a filter is set, or being typed there.
    pub fn filter_bar(&self, view: View) -> bool {
        let filter = match view {
            View::Ports => &self.ports.filter,
            View::Leases => &self.leases.filter,
            View::Forwards => &self.forwards.filter,
            _ => return false,
        };
        !filter.value().is_empty()
            || (self.view == view && matches!(self.popup(), Some(Popup::Filter)))
    }

    /// The filter of the current view's table, if it has one.
    pub(crate) fn filter_input(&mut self) -> Option<&mut Input> {
        match self.view {
            View::Ports => Some(&mut self.ports.filter),
            View::Leases => Some(&mut self.leases.filter),
            View::Forwards => Some(&mut self.forwards.filter),
            _ => None,
        }
    }

    /// Recompute the current view's order after its filter or sort changed: the selected row
    /// stays selected if `keep` and it is still visible, else the first row is selected.
    pub(crate) fn refresh_table(&mut self, keep: bool) {
        match self.view {
            View::Ports => {
                let key = keep
                    .then(|| self.selected_port().map(|p| p.key()))
                    .flatten();
                if !keep {
                    self.ports.list.selected = 0;
                }
                self.refresh_port_order(key);
            }
            View::Leases => {
                let key = keep.then(|| self.selected_lease_key()).flatten();
                if !keep {
                    self.leases.list.selected = 0;
                }
                self.refresh_lease_order(key);
            }
            View::Forwards => {
                let key = keep
                    .then(|| self.selected_forward().map(|f| f.key()))
                    .flatten();
                if !keep {
                    self.forwards.list.selected = 0;
                }
                self.refresh_forward_order(key);
            }
            _ => {}
        }
    }

    /// `o` / `O` in the current view.
    pub(crate) fn change_sort(&mut self, action: Action) {
        match self.view {
            View::Ports => self.ports.change_sort(action),
            View::Leases => self.leases.change_sort(action),
            View::Forwards => self.forwards.change_sort(action),
            _ => return,
        }
        self.refresh_table(true);
    }

    /// Keep the current view's selection in sight after its order changed.
    pub(crate) fn scroll_table(&mut self, view: View) {
        if self.view == view {
            let page = self.page_rows();
            let (list, _) = self.current_list();
            list.scroll_into_view(page);
        }
        self.touch();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_values_go_last_both_ways() {
        let some = SortKey::Time(Some(5));
        let none = SortKey::Time(None);
        assert_eq!(some.compare(&none, false), Ordering::Less);
        assert_eq!(some.compare(&none, true), Ordering::Less);
        let early = SortKey::Time(Some(1));
        assert_eq!(early.compare(&some, false), Ordering::Less);
        assert_eq!(early.compare(&some, true), Ordering::Greater);
        let busy = SortKey::Num(Some(9.0));
        assert_eq!(
            busy.compare(&SortKey::Num(Some(1.0)), false),
            Ordering::Less
        );
    }
}
