//! Keys outside popups: global actions, list movement, and the networks and ports actions.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::log::Level;
use super::popup::{Confirm, Popup};
use super::{App, View};
use crate::tui::data::{Command, NetworkRow};
use crate::tui::event::Effect;
use crate::tui::keymap::Action;

/// Refresh intervals `+` and `-` step through, in milliseconds.
pub const INTERVAL_STEPS_MS: [u64; 9] =
    [100, 250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000];

impl App {
    pub(crate) fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.kind != KeyEventKind::Press {
            return vec![];
        }
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            return vec![Effect::Quit];
        }
        if !self.popups.is_empty() {
            return self.popup_key(key);
        }
        match self.settings.keymap.lookup(self.view.scopes(), &key) {
            Some(action) => self.act(action),
            None => vec![],
        }
    }

    /// Carry out an action of the focused view or a global one.
    pub(crate) fn act(&mut self, action: Action) -> Vec<Effect> {
        use Action::*;
        match action {
            Quit => return vec![Effect::Quit],
            Help => self.push_popup(Popup::Help { scroll: 0 }),
            NextView => self.switch_view(self.view_offset(1)),
            PrevView => self.switch_view(self.view_offset(View::ALL.len() - 1)),
            ViewNetworks => self.switch_view(View::Networks),
            ViewPorts => self.switch_view(View::Ports),
            ViewLeases => self.switch_view(View::Leases),
            ViewHost => self.switch_view(View::Host),
            ViewLog => self.switch_view(View::Log),
            ViewForwards => self.switch_view(View::Forwards),
            Freeze => self.toggle_freeze(),
            Faster => return self.step_interval(-1),
            Slower => return self.step_interval(1),
            Up | Down | PageUp | PageDown | First | Last => self.move_selection(action),
            StartStop | Autostart | Undefine | Repair => return self.network_action(action),
            ToggleXml => {
                self.show_xml = !self.show_xml;
                self.xml_scroll = 0;
                self.touch();
            }
            NewNetwork => self.open_new_network(),
            EditNetwork => self.open_edit_network(),
            AttachMacvtap => self.open_attach(),
            Why => self.open_why(),
            PinLease => self.ask_pin(),
            AddForward | RemoveForward | TestForward => return self.forward_action(action),
            Detach => return self.ask_detach(),
            MovePort => self.ask_move_port(),
            OpenEntry => {
                if !self.log.entries.is_empty() {
                    let at = self.log.list.selected.min(self.log.entries.len() - 1);
                    self.push_popup(Popup::LogEntry(at));
                }
            }
            SortNext | SortReverse => self.change_sort(action),
            Filter => self.push_popup(Popup::Filter),
            OpenDetail => {
                if let Some(port) = self.selected_port() {
                    let (key, name) = (port.key(), port.ifname.clone());
                    self.push_popup(Popup::PortDetail { key, name });
                }
            }
            // Consulted only inside their popups.
            FilterApply | FilterClear | Confirm | Cancel | Close | FieldNext | FieldPrev
            | StepNext | StepBack | FieldToggle | ChoicePrev | ChoiceNext | FieldClear
            | FieldDeleteWord | Apply | ReviewBack | WhyFix | WhyAgain => {}
        }
        vec![]
    }

    fn view_offset(&self, by: usize) -> View {
        let i = View::ALL.iter().position(|v| *v == self.view).unwrap_or(0);
        View::ALL[(i + by) % View::ALL.len()]
    }

    pub(crate) fn switch_view(&mut self, view: View) {
        self.view = view;
        let page = self.page_rows();
        let (list, len) = self.current_list();
        list.clamp(len);
        list.scroll_into_view(page);
        self.touch();
    }

    fn toggle_freeze(&mut self) {
        if self.frozen {
            self.thaw();
            self.notify(Level::Info, "display live again".into());
        } else {
            self.freeze();
            self.notify(Level::Info, "display frozen; press f to thaw".into());
        }
    }

    fn step_interval(&mut self, dir: isize) -> Vec<Effect> {
        let steps = INTERVAL_STEPS_MS;
        let i = steps
            .iter()
            .position(|s| *s >= self.interval_ms)
            .unwrap_or(steps.len() - 1);
        let next = steps[i.saturating_add_signed(dir).min(steps.len() - 1)];
        if next == self.interval_ms {
            self.notify(
                Level::Info,
                format!("refresh stays at {}", interval_text(next)),
            );
            return vec![];
        }
        self.interval_ms = next;
        self.notify(
            Level::Info,
            format!("refresh every {}", interval_text(next)),
        );
        vec![Effect::SetInterval(next)]
    }

    pub(crate) fn move_selection(&mut self, action: Action) {
        if self.view == View::Networks
            && self.show_xml
            && matches!(action, Action::PageUp | Action::PageDown)
        {
            let step: i32 = if action == Action::PageUp { -10 } else { 10 };
            let lines = self
                .selected_network()
                .map_or(0, |n| n.xml().lines().count()) as i32;
            self.xml_scroll =
                (i32::from(self.xml_scroll) + step).clamp(0, (lines - 1).max(0)) as u16;
            self.touch();
            return;
        }
        let page = self.page_rows();
        let (list, len) = self.current_list();
        match action {
            Action::Up => list.move_by(-1, len),
            Action::Down => list.move_by(1, len),
            Action::PageUp => list.move_by(-(page as isize), len),
            Action::PageDown => list.move_by(page as isize, len),
            Action::First => list.first(),
            Action::Last => list.last(len),
            _ => {}
        }
        list.scroll_into_view(page);
        if self.view == View::Networks {
            self.xml_scroll = 0;
        }
        self.touch();
    }

    fn network_action(&mut self, action: Action) -> Vec<Effect> {
        let Some(net) = self.selected_network().cloned() else {
            self.notify(Level::Warn, "no network selected".into());
            return vec![];
        };
        let name = net.name.clone();
        match action {
            Action::StartStop if !net.active => self.issue(Command::StartNetwork(name)),
            Action::StartStop => self.ask_stop(&net),
            Action::Autostart => self.issue(Command::SetAutostart(name, !net.autostart)),
            Action::Undefine => {
                let ports = self.port_names_of(&net.name);
                self.push_popup(Popup::Confirm(undefine_question(&net, &ports)));
                vec![]
            }
            Action::Repair if net.drift.is_empty() && !net.dnsmasq_dead() => {
                self.notify(Level::Info, format!("{name}: no drift to repair"));
                vec![]
            }
            Action::Repair => self.issue(Command::RepairNetwork(name)),
            _ => vec![],
        }
    }

    /// The guest ports on network `name` now, as "vnet0 (web1)".
    pub(crate) fn port_names_of(&self, name: &str) -> Vec<String> {
        self.snap
            .ports
            .iter()
            .filter(|p| p.network.as_deref() == Some(name))
            .map(|p| match &p.guest {
                Some(g) => format!("{} ({g})", p.ifname),
                None => p.ifname.clone(),
            })
            .collect()
    }

    /// Detach the selected port if it is a macvtap (the backend refuses one `attach` did not
    /// make, and says so); asks first, naming the guest.
    fn ask_detach(&mut self) -> Vec<Effect> {
        let Some(port) = self.selected_port().cloned() else {
            return vec![];
        };
        if port.kind != crate::state::LinkKind::Macvtap {
            self.notify(
                Level::Info,
                format!(
                    "{}: only a macvtap made by attach can be detached",
                    port.ifname
                ),
            );
            return vec![];
        }
        let guest = port.guest.as_deref().unwrap_or("no guest holds it");
        self.push_popup(Popup::Confirm(Confirm {
            title: "Detach macvtap".into(),
            lines: vec![
                format!("Detach {} ({guest})?", port.ifname),
                "The link is deleted: a guest using it loses this interface.".into(),
            ],
            command: Command::Detach(port.ifname.clone()),
        }));
        vec![]
    }

    /// Move the selected guest port to another network's bridge: pick the network among the
    /// other running networks with a bridge of their own, then confirm. A port that is not a
    /// guest's tap or veth on a network's bridge is refused here, saying why (the backend
    /// checks again, by interface index).
    fn ask_move_port(&mut self) {
        use crate::state::LinkKind;
        use crate::tui::data::NetMode;
        let Some(port) = self.selected_port().cloned() else {
            return;
        };
        let refuse = |why: &str| format!("{}: {why}", port.ifname);
        let from = match (&port.kind, &port.network) {
            (LinkKind::Tun | LinkKind::Veth, Some(net)) => net.clone(),
            (LinkKind::Tun | LinkKind::Veth, None) => {
                let why = "it is on no switchyard network's bridge; only those ports can move";
                return self.notify(Level::Info, refuse(why));
            }
            (kind, _) => {
                let why = format!(
                    "a {} link, not a guest port (switchyard moves only taps and veths)",
                    kind.name()
                );
                return self.notify(Level::Info, refuse(&why));
            }
        };
        let choices: Vec<String> = self
            .snapshot()
            .networks
            .iter()
            .filter(|n| n.active && n.name != from && n.bridge.is_some())
            .filter(|n| {
                matches!(n.mode, NetMode::Isolated)
                    || matches!(
                        n.mode,
                        NetMode::Forward(
                            crate::model::ForwardMode::Nat
                                | crate::model::ForwardMode::Route
                                | crate::model::ForwardMode::Open
                        )
                    )
            })
            .map(|n| n.name.clone())
            .collect();
        if choices.is_empty() {
            let why = "no other running network with a bridge of its own to move it to";
            return self.notify(Level::Info, refuse(why));
        }
        self.push_popup(Popup::MovePort(super::popup::MovePort {
            ifname: port.ifname.clone(),
            guest: port.guest.clone(),
            from,
            choices,
            selected: 0,
        }));
    }

    /// Stopping a network with ports cuts its guests off until it starts again: ask first,
    /// naming them.
    fn ask_stop(&mut self, net: &NetworkRow) -> Vec<Effect> {
        let on_net = self.port_names_of(&net.name);
        if on_net.is_empty() {
            return self.issue(Command::StopNetwork(net.name.clone()));
        }
        let mut lines = vec![format!("Stop network '{}'?", net.name)];
        if matches!(net.mode, crate::tui::data::NetMode::Macvtap(_)) {
            lines.push(format!(
                "Its {} macvtap(s) stay up with their guests (detach one with D in Ports):",
                on_net.len()
            ));
        } else {
            lines.push(format!(
                "{} guest port(s) lose their link until the network starts again; the next \
                 start puts them back:",
                on_net.len()
            ));
        }
        lines.extend(on_net.into_iter().map(|p| format!("  {p}")));
        self.push_popup(Popup::Confirm(Confirm {
            title: "Stop network".into(),
            lines,
            command: Command::StopNetwork(net.name.clone()),
        }));
        vec![]
    }
}

/// Undefine asks first; an active network is offered "stop and undefine" (the backend
/// refuses to undefine a running one), naming the guest ports that lose their link.
fn undefine_question(net: &NetworkRow, ports: &[String]) -> Confirm {
    if !net.active {
        return Confirm {
            title: "Undefine network".into(),
            lines: vec![
                format!("Undefine network '{}'?", net.name),
                "Its definition is deleted; this cannot be undone.".into(),
            ],
            command: Command::Undefine(net.name.clone()),
        };
    }
    let mut lines = vec![
        format!("Stop and undefine network '{}'?", net.name),
        "It is active: it is stopped first, then its definition is deleted; this cannot be \
         undone."
            .into(),
    ];
    if !ports.is_empty() {
        lines.push(format!(
            "{} guest port(s) lose their link for good:",
            ports.len()
        ));
        lines.extend(ports.iter().map(|p| format!("  {p}")));
    }
    Confirm {
        title: "Stop and undefine network".into(),
        lines,
        command: Command::StopAndUndefine(net.name.clone()),
    }
}

/// "500 ms", "1 s", "30 s".
pub fn interval_text(ms: u64) -> String {
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1_000) {
        format!("{} s", ms / 1_000)
    } else {
        format!("{:.1} s", ms as f64 / 1_000.0)
    }
}
