//! `App`: the one owner of UI state. [`App::update`] is pure — it takes an [`Event`], changes
//! state and returns [`Effect`]s for the event loop to carry out; views only read `&App`.

mod commands;
mod forwards;
mod keys;
mod leases;
mod list;
mod log;
mod mouse;
mod popup;
mod ports;
mod snapshot;
mod table;
mod why;
mod wizards;

use std::collections::BTreeMap;
use std::sync::Arc;

use ratatui::layout::Rect;

pub use commands::{Pending, Toast, COMMAND_TIMEOUT_TICKS};
pub use forwards::{ForwardSort, ForwardTestView, ForwardsState};
pub use keys::{interval_text, INTERVAL_STEPS_MS};
pub use leases::{is_pinned, LeaseKey, LeaseSort, LeasesState};
pub use list::ListState;
pub use log::{Level, LogEntry};
pub use popup::{Confirm, MovePort, Popup};
pub use ports::{PortSort, PortsState};
pub use snapshot::Traffic;
pub use table::{SortColumn, TableState};
pub use why::{WhyPhase, WhyPopup};

use super::config::{Config, DEFAULT_INTERVAL_MS};
use super::data::{NetworkRow, PortRow, Snapshot};
use super::event::{Effect, Event, TICKS_PER_SEC};
use super::format::Units;
use super::keymap::{Keymap, Scope};
use super::layout;
use super::theme::Theme;
use crate::telemetry::RateTracker;

/// The top-level views, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    /// Virtual networks.
    Networks,
    /// Guest ports.
    Ports,
    /// DHCP leases.
    Leases,
    /// Host interfaces.
    Host,
    /// What switchyard did.
    Log,
    /// Port forwards into NAT networks.
    Forwards,
}

impl View {
    /// Every view, in tab order.
    pub const ALL: [View; 6] = [
        View::Networks,
        View::Ports,
        View::Leases,
        View::Host,
        View::Log,
        View::Forwards,
    ];

    /// Tab title.
    pub fn title(self) -> &'static str {
        match self {
            View::Networks => "Networks",
            View::Ports => "Ports",
            View::Leases => "Leases",
            View::Host => "Host",
            View::Log => "Log",
            View::Forwards => "Forwards",
        }
    }

    /// The digit that selects it.
    pub fn number(self) -> usize {
        self.index() + 1
    }

    fn index(self) -> usize {
        View::ALL
            .iter()
            .position(|v| *v == self)
            .expect("every view is in ALL")
    }

    /// The key scopes consulted in this view, in order.
    pub fn scopes(self) -> &'static [Scope] {
        match self {
            View::Networks => &[Scope::Networks, Scope::List, Scope::Global],
            View::Ports => &[Scope::Tables, Scope::Ports, Scope::List, Scope::Global],
            View::Leases => &[Scope::Tables, Scope::Leases, Scope::List, Scope::Global],
            View::Log => &[Scope::Log, Scope::List, Scope::Global],
            View::Forwards => &[Scope::Tables, Scope::Forwards, Scope::List, Scope::Global],
            _ => &[Scope::List, Scope::Global],
        }
    }
}

/// Settings the App starts with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Refresh interval asked of the data source.
    pub interval_ms: u64,
    /// Rate units.
    pub units: Units,
    /// Styles.
    pub theme: Theme,
    /// Key bindings.
    pub keymap: Keymap,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            interval_ms: DEFAULT_INTERVAL_MS,
            units: Units::Bits,
            theme: Theme::default(),
            keymap: Keymap::default(),
        }
    }
}

impl Settings {
    /// Settings from a loaded config and a resolved theme.
    pub fn from_config(config: &Config, theme: Theme) -> Self {
        Self {
            interval_ms: config.interval_ms,
            units: config.units,
            theme,
            keymap: config.keymap.clone(),
        }
    }
}

/// All UI state.
#[derive(Debug)]
pub struct App {
    pub(crate) settings: Settings,
    pub(crate) interval_ms: u64,
    pub(crate) size: (u16, u16),
    pub(crate) snap: Arc<Snapshot>,
    pub(crate) have_snapshot: bool,
    held: Option<Arc<Snapshot>>,
    pub(crate) frozen: bool,
    pub(crate) rates: RateTracker,
    /// Each network's summed port rates and their history, by network name.
    pub(crate) net_rates: RateTracker<String>,
    pub(crate) net_traffic: BTreeMap<String, Traffic>,
    pub(crate) total: Traffic,
    pub(crate) view: View,
    pub(crate) nets: ListState,
    pub(crate) show_xml: bool,
    pub(crate) xml_scroll: u16,
    pub(crate) ports: PortsState,
    pub(crate) leases: LeasesState,
    pub(crate) forwards: ForwardsState,
    pub(crate) host: ListState,
    pub(crate) iface_order: Vec<usize>,
    pub(crate) log: log::Log,
    pub(crate) popups: Vec<Popup>,
    pub(crate) pending: BTreeMap<u64, Pending>,
    next_id: u64,
    pub(crate) toast: Option<Toast>,
    pub(crate) tick: u64,
    snap_tick: u64,
    frozen_tick: u64,
    problems: BTreeMap<String, String>,
    /// The last source notice logged.
    notice_seq: u64,
    dirty: bool,
    forms_opened: u64,
    /// The forms' view of the host, for the network being edited (if any): built from the
    /// current snapshot on first use, dropped when a new snapshot arrives.
    pub(crate) form_ctx: Option<(Option<String>, crate::tui::wizard::WizardContext)>,
    /// A network just created: selected once a snapshot shows it.
    select_after: Option<String>,
}

impl App {
    /// A fresh App for a terminal of `size` (columns, rows), with no data yet.
    pub fn new(settings: Settings, size: (u16, u16)) -> Self {
        Self {
            interval_ms: settings.interval_ms,
            settings,
            size,
            snap: Arc::default(),
            have_snapshot: false,
            held: None,
            frozen: false,
            rates: RateTracker::new(),
            net_rates: RateTracker::new(),
            net_traffic: BTreeMap::new(),
            total: Traffic::default(),
            view: View::Networks,
            nets: ListState::default(),
            show_xml: false,
            xml_scroll: 0,
            ports: PortsState::default(),
            leases: LeasesState::default(),
            forwards: ForwardsState::default(),
            host: ListState::default(),
            iface_order: Vec::new(),
            log: log::Log::default(),
            popups: Vec::new(),
            pending: BTreeMap::new(),
            next_id: 1,
            toast: None,
            tick: 0,
            snap_tick: 0,
            frozen_tick: 0,
            problems: BTreeMap::new(),
            notice_seq: 0,
            dirty: true,
            forms_opened: 0,
            form_ctx: None,
            select_after: None,
        }
    }

    /// Apply one event; returns what the event loop must do. No I/O happens here.
    pub fn update(&mut self, event: Event) -> Vec<Effect> {
        match event {
            Event::Key(key) => self.on_key(key),
            Event::Mouse(mouse) => self.on_mouse(mouse),
            Event::Resize(w, h) => {
                self.size = (w, h);
                self.scroll_all();
                self.touch();
                vec![]
            }
            Event::Snapshot(snap) => {
                self.on_snapshot(snap);
                vec![]
            }
            Event::Tick => self.on_tick(),
            Event::Progress { id, step } => {
                self.on_progress(id, step);
                vec![]
            }
            Event::CommandDone(result) => self.on_result(result),
            Event::SourceClosed => {
                self.report(
                    Level::Error,
                    "the data source stopped; data is no longer updated".into(),
                );
                vec![]
            }
        }
    }

    /// Whether something visible changed since the last call; clears the flag.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    pub(crate) fn touch(&mut self) {
        self.dirty = true;
    }

    /// The current view.
    pub fn view(&self) -> View {
        self.view
    }

    /// The snapshot being shown.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snap
    }

    /// Whether the display is frozen.
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// The refresh interval currently asked of the source.
    pub fn interval_ms(&self) -> u64 {
        self.interval_ms
    }

    /// The popup on top, if any.
    pub fn popup(&self) -> Option<&Popup> {
        self.popups.last()
    }

    /// Commands sent and not yet answered, by request id.
    pub fn pending(&self) -> &BTreeMap<u64, Pending> {
        &self.pending
    }

    /// The log, oldest first.
    pub fn log_entries(&self) -> &[LogEntry] {
        &self.log.entries
    }

    /// The toast being shown.
    pub fn toast(&self) -> Option<&Toast> {
        self.toast.as_ref()
    }

    /// The ports view state (sort, filter, visible order).
    pub fn ports_state(&self) -> &PortsState {
        &self.ports
    }

    /// The selected network, if any.
    pub fn selected_network(&self) -> Option<&NetworkRow> {
        self.snap.networks.get(self.nets.selected)
    }

    /// The selected port (in the sorted, filtered order), if any.
    pub fn selected_port(&self) -> Option<&PortRow> {
        let i = *self.ports.order.get(self.ports.list.selected)?;
        self.snap.ports.get(i)
    }

    /// Select a network by name (for tests and scripted runs); false if there is none.
    pub fn select_network(&mut self, name: &str) -> bool {
        match self.snap.networks.iter().position(|n| n.name == name) {
            Some(i) => {
                self.nets.selected = i;
                self.touch();
                true
            }
            None => false,
        }
    }

    /// Traffic through one network's ports.
    pub fn network_traffic(&self, name: &str) -> Traffic {
        self.net_traffic.get(name).copied().unwrap_or_default()
    }

    /// Traffic through all ports.
    pub fn total_traffic(&self) -> Traffic {
        self.total
    }

    /// Wall-clock estimate in unix seconds: the snapshot's time plus ticks since it arrived
    /// (stopped while frozen). Zero before the first snapshot.
    pub fn now_unix(&self) -> u64 {
        let until = if self.frozen {
            self.frozen_tick
        } else {
            self.tick
        };
        self.snap.now_unix + until.saturating_sub(self.snap_tick) / TICKS_PER_SEC
    }

    /// The screen geometry for the current size.
    pub(crate) fn screen(&self) -> layout::Screen {
        layout::screen(Rect::new(0, 0, self.size.0, self.size.1))
    }

    /// Area of the current view's main table.
    pub(crate) fn table_area(&self) -> Rect {
        let body = self.screen().body;
        match self.view {
            View::Networks => layout::networks(body, self.snap.networks.len()).0,
            View::Ports | View::Leases | View::Forwards => {
                layout::filtered(body, self.filter_bar(self.view)).0
            }
            _ => body,
        }
    }

    /// Rows that fit in the current view's table.
    pub(crate) fn page_rows(&self) -> usize {
        usize::from(layout::table_rows(self.table_area()).height).max(1)
    }

    /// The current list, its length.
    pub(crate) fn current_list(&mut self) -> (&mut ListState, usize) {
        match self.view {
            View::Networks => (&mut self.nets, self.snap.networks.len()),
            View::Ports => (&mut self.ports.list, self.ports.order.len()),
            View::Leases => (&mut self.leases.list, self.leases.order.len()),
            View::Host => (&mut self.host, self.iface_order.len()),
            View::Log => (&mut self.log.list, self.log.entries.len()),
            View::Forwards => (&mut self.forwards.list, self.forwards.order.len()),
        }
    }

    fn scroll_all(&mut self) {
        let view = self.view;
        for v in View::ALL {
            self.view = v;
            let page = self.page_rows();
            let (list, len) = self.current_list();
            list.clamp(len);
            list.scroll_into_view(page);
        }
        self.view = view;
    }
}
