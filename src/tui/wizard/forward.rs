//! The port forward form (`a` in the Forwards view): network (NAT networks only), protocol,
//! host port(s), target (a pinned or leased guest of the network, or a typed address), target
//! port(s), listen address and comment, each checked by the model's own forward validation
//! with the problem beside its field; then a review of exactly what applying changes (the
//! plan of the change and the nft rules it loads), then the backend's answer — a refusal
//! (a port the host serves) goes back beside its field.

use std::net::{IpAddr, Ipv4Addr};

use crossterm::event::KeyEvent;

use super::field::{Choice, Field, FieldId, Form, FormKey, Value};
use super::review::Tone;
use crate::model::forward::{self, Forward, GuestRef, PortRange, Proto, Target};
use crate::model::validate::Problems;
use crate::model::{ForwardMode, MacAddr, NetworkDef};
use crate::plan::change::{classify, Change};
use crate::plan::dnsmasq::DnsmasqPaths;
use crate::plan::firewall::{add_network, describe, replace_network};
use crate::plan::firewall_net;
use crate::tui::data::{Command, CommandResult, Snapshot};
use crate::tui::keymap::{Action, Keymap, Scope};

/// The fields, in focus order (the typed address only counts when "address" is the target).
pub const FIELDS: [FieldId; 8] = [
    FieldId::Network,
    FieldId::Proto,
    FieldId::HostPort,
    FieldId::Target,
    FieldId::TargetAddr,
    FieldId::TargetPort,
    FieldId::Listen,
    FieldId::Comment,
];

/// The target choice that means "the address typed below".
const TYPED: &str = "addr";

/// A NAT network a forward can go into, as the snapshot shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardNet {
    /// Its stored definition.
    pub def: NetworkDef,
    /// Whether it runs.
    pub active: bool,
    /// Its IPv4 leases: MAC, host name, address.
    pub leases: Vec<(MacAddr, Option<String>, Ipv4Addr)>,
}

/// What the form checks against: the NAT networks, and every definition (a host port is the
/// host's: forwards of other networks count too).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForwardContext {
    /// NAT networks, in the snapshot's order.
    pub nets: Vec<ForwardNet>,
    /// Every network's definition.
    pub all: Vec<NetworkDef>,
}

impl ForwardContext {
    /// From the snapshot the form is drawn over.
    pub fn from_snapshot(snap: &Snapshot) -> Self {
        let all: Vec<NetworkDef> = snap
            .networks
            .iter()
            .filter_map(|n| n.def.as_deref().cloned())
            .collect();
        let nets = snap
            .networks
            .iter()
            .filter_map(|n| Some((n, n.def.as_deref()?)))
            .filter(|(_, d)| d.mode() == Some(ForwardMode::Nat))
            .map(|(n, d)| ForwardNet {
                def: d.clone(),
                active: n.active,
                leases: snap
                    .leases
                    .iter()
                    .filter(|l| l.network == n.name)
                    .filter_map(|l| match (l.mac, l.ip) {
                        (Some(m), IpAddr::V4(a)) => Some((m, l.hostname.clone(), a)),
                        _ => None,
                    })
                    .collect(),
            })
            .collect();
        ForwardContext { nets, all }
    }
}

/// Where the form stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardState {
    /// The fields.
    Editing,
    /// The review of what applying does.
    Review,
    /// Sent as this request.
    Running(u64),
}

/// What the App should do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardOutcome {
    /// Nothing beyond redrawing.
    Nothing,
    /// Close the form.
    Close,
    /// Send this command, then tell the form with [`ForwardForm::sent`].
    Send(Command),
}

/// A forward as the fields describe it, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The forward.
    pub forward: Forward,
    /// The network's definition as it is now.
    pub before: NetworkDef,
    /// Its definition with the forward (and the lease pinned when the target is a leased
    /// guest without a reservation).
    pub after: NetworkDef,
    /// The lease pinned with the forward: MAC, address.
    pub pinned: Option<(MacAddr, Ipv4Addr)>,
    /// Whether the network runs.
    pub active: bool,
}

/// The form.
#[derive(Debug, Clone)]
pub struct ForwardForm {
    pub(crate) form: Form,
    pub(crate) focus: FieldId,
    pub(crate) state: ForwardState,
    /// The first line of the review shown.
    pub(crate) scroll: u16,
    ctx: ForwardContext,
    attempted: bool,
    /// A refusal of the backend that names no field.
    pub(crate) general: Option<String>,
}

impl ForwardForm {
    /// A form over the NAT networks of `ctx`, `preferred` chosen if it is one; `None` when
    /// there is none.
    pub fn new(ctx: ForwardContext, preferred: Option<&str>) -> Option<Self> {
        if ctx.nets.is_empty() {
            return None;
        }
        let choices: Vec<Choice> = ctx
            .nets
            .iter()
            .map(|n| {
                let subnet = n.def.ipv4().map(|s| s.to_string()).unwrap_or_default();
                let state = if n.active { "running" } else { "stopped" };
                Choice::new(&n.def.name, &n.def.name, &format!("{subnet}, {state}"))
            })
            .collect();
        let selected = ctx
            .nets
            .iter()
            .position(|n| Some(n.def.name.as_str()) == preferred)
            .unwrap_or(0);
        let protos = Proto::ALL
            .iter()
            .map(|p| Choice::plain(p.as_str()))
            .collect();
        let fields = vec![
            Field::with(
                FieldId::Network,
                "Network",
                Value::Pick { choices, selected },
            )
            .hint("the NAT network the forward leads into; ←/→ to choose"),
            Field::with(
                FieldId::Proto,
                "Protocol",
                Value::Pick {
                    choices: protos,
                    selected: 0,
                },
            )
            .hint("tcp or udp; ←/→ to choose"),
            Field::text(FieldId::HostPort, "Host port", "", "8080 or 8000-8009")
                .hint("the port (or range) of the host that is forwarded"),
            Field::with(
                FieldId::Target,
                "Target",
                Value::Pick {
                    choices: Vec::new(),
                    selected: 0,
                },
            )
            .hint("a guest of the network (the forward follows its reservation) or an address"),
            Field::text(
                FieldId::TargetAddr,
                "Target address",
                "",
                "an address of the subnet",
            )
            .hint("used when the target is \"address\""),
            Field::text(FieldId::TargetPort, "Target port", "", "the host port")
                .hint("the guest's port (or a range as long as the host's)"),
            Field::text(FieldId::Listen, "Listen address", "", "every host address")
                .hint("one host address to listen on; empty: every one but loopback"),
            Field::text(FieldId::Comment, "Comment", "", "none").hint("a note shown in the list"),
        ];
        let mut form = ForwardForm {
            form: Form { fields },
            focus: FieldId::HostPort,
            state: ForwardState::Editing,
            scroll: 0,
            ctx,
            attempted: false,
            general: None,
        };
        form.refresh_targets();
        form.recheck();
        Some(form)
    }

    /// Where the form stands.
    pub fn state(&self) -> &ForwardState {
        &self.state
    }

    /// The field with focus.
    pub fn focused(&self) -> FieldId {
        self.focus
    }

    /// The error shown beside field `id`, if any.
    pub fn error(&self, id: FieldId) -> Option<&str> {
        self.form.get(id).and_then(|f| f.error.as_deref())
    }

    /// The text (or chosen value) of field `id`.
    pub fn value(&self, id: FieldId) -> String {
        self.form.text(id)
    }

    /// A refusal of the backend that names no field.
    pub fn general(&self) -> Option<&str> {
        self.general.as_deref()
    }

    /// The fields shown: the typed address only when the target is "address".
    pub fn shown(&self) -> Vec<FieldId> {
        FIELDS
            .iter()
            .copied()
            .filter(|id| *id != FieldId::TargetAddr || self.typed_target())
            .collect()
    }

    fn typed_target(&self) -> bool {
        self.form.text(FieldId::Target) == TYPED
    }

    fn net(&self) -> Option<&ForwardNet> {
        let name = self.form.text(FieldId::Network);
        self.ctx.nets.iter().find(|n| n.def.name == name)
    }

    /// The host changed: new context, fields checked again.
    pub fn refresh(&mut self, ctx: ForwardContext) {
        // While the forward is being added, the host may already show it: not a problem of
        // the fields.
        if matches!(self.state, ForwardState::Running(_)) {
            return;
        }
        if self.ctx != ctx {
            self.ctx = ctx;
            self.refresh_targets();
            self.recheck();
        }
    }

    /// The target choices of the chosen network: its pinned guests, its leased guests
    /// without a pin (pinned with the forward), and a typed address; the choice kept.
    fn refresh_targets(&mut self) {
        let keep = self.form.text(FieldId::Target);
        let mut choices = Vec::new();
        if let Some(net) = self.net() {
            let pins = net.def.ips.iter().flat_map(|i| i.hosts());
            for h in pins {
                let Some(IpAddr::V4(ip)) = h.ip else { continue };
                let (value, who) = match (&h.mac, &h.name) {
                    (Some(m), name) => (format!("mac:{m}"), name.clone().unwrap_or(m.to_string())),
                    (None, Some(n)) => (format!("name:{n}"), n.clone()),
                    (None, None) => continue,
                };
                choices.push(Choice::new(&value, &format!("{who} {ip}"), "pinned"));
            }
            let pinned = |m: &MacAddr| {
                net.def
                    .ips
                    .iter()
                    .flat_map(|i| i.hosts())
                    .any(|h| h.mac.as_ref() == Some(m))
            };
            for (mac, name, ip) in net.leases.iter().filter(|(m, _, _)| !pinned(m)) {
                let who = name.clone().unwrap_or(mac.to_string());
                choices.push(Choice::new(
                    &format!("lease:{mac}"),
                    &format!("{who} {ip}"),
                    "leased; pinned with the forward",
                ));
            }
        }
        choices.push(Choice::new(TYPED, "address", "typed below"));
        let selected = choices.iter().position(|c| c.value == keep).unwrap_or(0);
        if let Some(f) = self.form.get_mut(FieldId::Target) {
            f.value = Value::Pick { choices, selected };
        }
    }

    /// The forward the fields describe, checked by the model; or the problems by field.
    pub fn check(&self) -> Result<Checked, Vec<(FieldId, String)>> {
        let mut bad = Vec::new();
        let net = self.net();
        if net.is_none() {
            bad.push((FieldId::Network, "no NAT network is defined".to_owned()));
        }
        let proto = self.form.text(FieldId::Proto).parse::<Proto>();
        let port = self.form.text(FieldId::HostPort);
        let port = match port.as_str() {
            "" => Err("give the host port".to_owned()),
            p => p.parse::<PortRange>(),
        };
        let opt_port = |id| {
            let text = self.form.text(id);
            (!text.is_empty())
                .then(|| text.parse::<PortRange>())
                .transpose()
        };
        let to_port = opt_port(FieldId::TargetPort);
        let listen = self.form.text(FieldId::Listen);
        let listen = (!listen.is_empty())
            .then(|| {
                listen
                    .parse::<Ipv4Addr>()
                    .map_err(|_| format!("{listen:?} is not an IPv4 address"))
            })
            .transpose();
        let choice = self.form.text(FieldId::Target);
        let mut lease = None;
        let target = if let Some(m) = choice.strip_prefix("mac:") {
            m.parse().map(|m| Target::Guest(GuestRef::Mac(m))).ok()
        } else if let Some(n) = choice.strip_prefix("name:") {
            Some(Target::Guest(GuestRef::Name(n.to_owned())))
        } else if let Some(m) = choice.strip_prefix("lease:") {
            let found = net
                .and_then(|n| n.leases.iter().find(|(mac, _, _)| mac.to_string() == m))
                .map(|(mac, _, ip)| (*mac, *ip));
            lease = found;
            found.map(|(mac, _)| Target::Guest(GuestRef::Mac(mac)))
        } else {
            let text = self.form.text(FieldId::TargetAddr);
            match text.parse::<Ipv4Addr>() {
                Ok(a) => Some(Target::Addr(a)),
                Err(_) if text.is_empty() => {
                    bad.push((FieldId::TargetAddr, "give the target's address".into()));
                    None
                }
                Err(_) => {
                    let msg = format!("{text:?} is not an IPv4 address");
                    bad.push((FieldId::TargetAddr, msg));
                    None
                }
            }
        };
        for (id, r) in [
            (FieldId::Proto, proto.as_ref().err()),
            (FieldId::HostPort, port.as_ref().err()),
            (FieldId::TargetPort, to_port.as_ref().err()),
            (FieldId::Listen, listen.as_ref().err()),
        ] {
            if let Some(e) = r {
                bad.push((id, e.clone()));
            }
        }
        let comment = self.form.text(FieldId::Comment);
        let (Some(net), Ok(proto), Ok(port), Ok(to_port), Ok(address), Some(target)) =
            (net, proto, port, to_port, listen, target)
        else {
            return Err(bad);
        };
        let f = Forward {
            proto,
            port,
            address,
            target,
            to_port,
            comment: (!comment.is_empty()).then_some(comment),
        };
        // The backend pins a leased guest without a reservation with the forward.
        let base = match lease {
            Some((mac, ip)) => {
                match crate::model::pin(&net.def, Some(mac), None, ip.into(), false) {
                    Ok((def, _)) => def,
                    Err(e) => return Err(vec![(FieldId::Target, e.to_string())]),
                }
            }
            None => net.def.clone(),
        };
        let mut list =
            forward::forwards(&base).map_err(|p| vec![(FieldId::Network, p.to_string())])?;
        if let Some(same) = list.iter().find(|g| g.proto == f.proto && g.port == f.port) {
            let msg = format!("network {} already forwards {}", net.def.name, same.key());
            return Err(vec![(FieldId::HostPort, msg)]);
        }
        let index = list.len();
        list.push(f.clone());
        let after = forward::with_forwards(&base, &list);
        let others: Vec<&NetworkDef> = self
            .ctx
            .all
            .iter()
            .filter(|d| d.name != net.def.name)
            .collect();
        let mut problems = Problems::default();
        forward::check(&after, &others, &mut problems);
        let typed = self.typed_target();
        let mine = format!("forward[{index}] ");
        let bad: Vec<(FieldId, String)> = problems
            .0
            .iter()
            .filter(|p| p.path.starts_with(&mine) || !p.path.starts_with("forward["))
            .map(|p| (field_of(&p.path, typed), p.message.clone()))
            .collect();
        if !bad.is_empty() {
            return Err(bad);
        }
        Ok(Checked {
            forward: f,
            before: net.def.clone(),
            after,
            pinned: lease,
            active: net.active,
        })
    }

    /// Check every field as it is now; errors show on fields touched (or all after a try).
    pub fn recheck(&mut self) {
        let found = self.check().err().unwrap_or_default();
        self.form.show_errors(&found, self.attempted);
    }

    /// Handle a key.
    pub fn key(&mut self, key: &KeyEvent, keymap: &Keymap) -> ForwardOutcome {
        match self.state {
            ForwardState::Running(_) => ForwardOutcome::Nothing,
            ForwardState::Review => self.review_key(key, keymap),
            ForwardState::Editing => self.edit_key(key, keymap),
        }
    }

    fn review_key(&mut self, key: &KeyEvent, keymap: &Keymap) -> ForwardOutcome {
        match keymap.lookup(&[Scope::Review, Scope::List], key) {
            Some(Action::Apply) => match self.check() {
                Ok(c) => ForwardOutcome::Send(Command::AddForward {
                    network: c.before.name.clone(),
                    forward: c.forward,
                }),
                Err(_) => {
                    self.state = ForwardState::Editing;
                    self.recheck();
                    ForwardOutcome::Nothing
                }
            },
            Some(Action::ReviewBack) => {
                self.state = ForwardState::Editing;
                ForwardOutcome::Nothing
            }
            Some(Action::Up) => {
                self.scroll = self.scroll.saturating_sub(1);
                ForwardOutcome::Nothing
            }
            Some(Action::Down) => {
                self.scroll = self.scroll.saturating_add(1);
                ForwardOutcome::Nothing
            }
            Some(Action::PageUp) => {
                self.scroll = self.scroll.saturating_sub(10);
                ForwardOutcome::Nothing
            }
            Some(Action::PageDown) => {
                self.scroll = self.scroll.saturating_add(10);
                ForwardOutcome::Nothing
            }
            _ => ForwardOutcome::Nothing,
        }
    }

    fn edit_key(&mut self, key: &KeyEvent, keymap: &Keymap) -> ForwardOutcome {
        let action = keymap.lookup(&[Scope::Form, Scope::List], key);
        let picks = [FieldId::Network, FieldId::Proto, FieldId::Target];
        let text = !picks.contains(&self.focus);
        let shown = self.shown();
        match self.form.route(&mut self.focus, &shown, key, action, text) {
            FormKey::Back => return ForwardOutcome::Close,
            FormKey::Submit => {
                self.attempted = true;
                self.general = None;
                self.recheck();
                match self.check() {
                    Ok(_) => {
                        self.state = ForwardState::Review;
                        self.scroll = 0;
                    }
                    Err(bad) => {
                        if let Some((id, _)) = bad.first() {
                            self.focus = *id;
                        }
                    }
                }
            }
            FormKey::Changed => {
                self.general = None;
                if self.focus == FieldId::Network {
                    self.refresh_targets();
                }
                self.recheck();
            }
            FormKey::Nothing => {}
        }
        ForwardOutcome::Nothing
    }

    /// The App sent the command as `id` (or could not).
    pub fn sent(&mut self, id: Option<u64>) {
        match id {
            Some(id) => self.state = ForwardState::Running(id),
            None => {
                self.state = ForwardState::Editing;
                self.general = Some(
                    "another command on this network is still running; try again in a moment"
                        .into(),
                );
            }
        }
    }

    /// Take a command's result if it is the form's: `Some(true)` when the forward was added
    /// (the form closes), `Some(false)` when it was refused (the reasons go beside their
    /// fields, or above them), `None` when not the form's.
    pub fn on_result(&mut self, result: &CommandResult) -> Option<bool> {
        if self.state != ForwardState::Running(result.id) {
            return None;
        }
        if result.ok {
            return Some(true);
        }
        self.state = ForwardState::Editing;
        self.attempted = true;
        self.recheck();
        let typed = self.typed_target();
        let mut general = Vec::new();
        for line in result
            .message
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let placed = line.split_once(": ").and_then(|(path, msg)| {
                let id = field_of(path, typed);
                let known = !path.contains(' ') || path.starts_with("forward[");
                (known && id != FieldId::Network).then_some((id, msg))
            });
            match placed.and_then(|(id, msg)| Some((self.form.get_mut(id)?, msg))) {
                Some((field, msg)) => {
                    self.focus = field.id;
                    field.error = Some(msg.to_owned());
                }
                None => general.push(line.to_owned()),
            }
        }
        self.general = (!general.is_empty()).then(|| general.join("\n"));
        Some(false)
    }

    /// The review's lines: the forward in words, what applying does to the network, and the
    /// nft rules it loads. `None` while the fields have problems.
    pub fn review(&self) -> Option<Vec<(Tone, String)>> {
        self.check().ok().map(|c| review_lines(&c))
    }
}

/// The field a problem's path names (`forward[2] (tcp/80).to-port` → the target port).
fn field_of(path: &str, typed: bool) -> FieldId {
    let last = path.rsplit('.').next().unwrap_or(path);
    match last {
        "port" => FieldId::HostPort,
        "to-port" => FieldId::TargetPort,
        "address" => FieldId::Listen,
        "comment" => FieldId::Comment,
        "proto" => FieldId::Proto,
        "to" | "guest" if typed => FieldId::TargetAddr,
        "to" | "guest" => FieldId::Target,
        _ => FieldId::Network,
    }
}

/// The review of a checked forward (pure).
pub fn review_lines(c: &Checked) -> Vec<(Tone, String)> {
    let f = &c.forward;
    let name = &c.before.name;
    let mut out = Vec::new();
    out.push((Tone::Title, "Forward".into()));
    let listen = f
        .address
        .map_or("every host address but loopback".to_owned(), |a| {
            a.to_string()
        });
    let to = forward::target_address(&c.after, f).map_or("?".to_owned(), |a| a.to_string());
    let target = match &f.target {
        Target::Addr(_) => to.clone(),
        Target::Guest(g) => format!("guest {g} (now {to}; the forward follows its reservation)"),
    };
    out.push((Tone::Plain, format!("  {} {} on {listen}", f.proto, f.port)));
    out.push((
        Tone::Plain,
        format!("  → {target}, port {}", f.target_ports()),
    ));
    if let Some(comment) = &f.comment {
        out.push((
            Tone::Plain,
            format!("  comment: {}", comment.escape_debug()),
        ));
    }
    if let Some((mac, ip)) = c.pinned {
        out.push((
            Tone::Warn,
            format!("  {mac} has no reservation: its leased address {ip} is pinned with the forward, so the forward keeps reaching it."),
        ));
    }
    out.push((Tone::Plain, String::new()));
    let bridge = |d: &NetworkDef| d.bridge_name().unwrap_or_default().to_owned();
    let (old_fw, new_fw) = (
        firewall_net(&c.before, &bridge(&c.before)),
        firewall_net(&c.after, &bridge(&c.after)),
    );
    let rules = |fw: &Option<crate::plan::firewall::FirewallNet>| -> Vec<String> {
        fw.as_ref()
            .map(|n| {
                describe(&add_network(n))
                    .lines()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let (before, after) = (rules(&old_fw), rules(&new_fw));
    if c.active {
        let paths = DnsmasqPaths::new(
            std::path::Path::new("/run/switchyard/dnsmasq"),
            std::path::Path::new("/var/lib/switchyard"),
            name,
        );
        match classify(&c.before, &c.after, &paths) {
            Ok(Change::Live(plan)) => {
                out.push((
                    Tone::Good,
                    format!("Applied live to {name}: the bridge, dnsmasq's guests and their links stay ({} step(s)):", plan.steps.len()),
                ));
                out.extend(plan.steps.iter().map(|s| (Tone::Plain, format!("  • {s}"))));
            }
            Ok(Change::Nothing) => out.push((Tone::Muted, "Nothing on the host changes.".into())),
            Ok(Change::Restart(reasons)) => out.push((
                Tone::Warn,
                format!("⚠ Restarts the bridge of {name}: {}", reasons.join("; ")),
            )),
            Err(e) => out.push((Tone::Error, format!("✖ no plan: {e}"))),
        }
    } else {
        out.push((
            Tone::Muted,
            format!("{name} is not running: the forward is stored and its rules load at its next start."),
        ));
    }
    out.push((Tone::Plain, String::new()));
    out.push((
        Tone::Title,
        "nft rules the forward adds to the network's chains".into(),
    ));
    let added: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
    if added.is_empty() {
        out.push((Tone::Muted, "  none".into()));
    }
    out.extend(added.iter().map(|l| (Tone::Plain, format!("  {l}"))));
    if let (true, Some(old), Some(new)) = (c.active, &old_fw, &new_fw) {
        out.push((Tone::Plain, String::new()));
        out.push((
            Tone::Title,
            "The transaction loaded (nft -j -f -), shown as rules".into(),
        ));
        let doc = replace_network(old, new);
        out.extend(
            describe(&doc)
                .lines()
                .map(|l| (Tone::Plain, format!("  {l}"))),
        );
    }
    out.push((Tone::Plain, String::new()));
    out.push((
        Tone::Muted,
        "On apply, the backend also refuses a port the host serves on that address (sshd, this SSH session) and says which process holds it.".into(),
    ));
    out
}
