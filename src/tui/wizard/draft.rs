//! The network draft: what the wizard's fields hold, as plain values, and its translation
//! into the model's [`CreateRequest`] (with the problems only the form can see, such as an
//! MTU that is not a number, kept on their field).

use ipnet::Ipv4Net;

use super::field::{FieldId, Form};
use super::steps::{NetMode, TapMode};
use crate::model::validate::name_problems;
use crate::model::CreateRequest;

/// What the operator has entered so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkDraft {
    /// Network name.
    pub name: String,
    /// Kind of network.
    pub mode: NetMode,
    /// IPv4 gateway `ADDR/PREFIX`; empty for none.
    pub ipv4: String,
    /// Serve DHCP on IPv4.
    pub dhcp: bool,
    /// DHCP range `START-END`.
    pub dhcp_range: String,
    /// Add an IPv6 address.
    pub ipv6: bool,
    /// IPv6 gateway `ADDR/PREFIX`.
    pub ipv6_prefix: String,
    /// Outgoing device (nat, route); `None` = any.
    pub forward_dev: Option<String>,
    /// Host bridge (bridged).
    pub host_bridge: Option<String>,
    /// macvtap pool.
    pub devices: Vec<String>,
    /// macvtap mode.
    pub tap_mode: TapMode,
    /// Own bridge name; empty picks `sybrN`.
    pub bridge_name: String,
    /// DNS domain; empty for none.
    pub domain: String,
    /// Start at boot.
    pub autostart: bool,
    /// Define without starting it now (a new network only).
    pub define_only: bool,
    /// STP on the own bridge.
    pub stp: bool,
    /// MTU in bytes; empty for the default.
    pub mtu: String,
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl NetworkDraft {
    /// Read the draft out of the wizard's fields.
    pub fn from_form(form: &Form) -> Self {
        use FieldId as F;
        NetworkDraft {
            name: form
                .get(F::Name)
                .map_or(String::new(), |f| f.text_value().to_string()),
            mode: NetMode::from_key(&form.text(F::Mode)).unwrap_or_default(),
            ipv4: form.text(F::Ipv4),
            dhcp: form.on(F::Dhcp),
            dhcp_range: form.text(F::DhcpRange),
            ipv6: form.on(F::Ipv6),
            ipv6_prefix: form.text(F::Ipv6Prefix),
            forward_dev: non_empty(&form.text(F::ForwardDev)),
            host_bridge: non_empty(&form.text(F::HostBridge)),
            devices: form.checked(F::Devices),
            tap_mode: TapMode::from_key(&form.text(F::TapMode)).unwrap_or_default(),
            bridge_name: form.text(F::BridgeName),
            domain: form.text(F::Domain),
            autostart: form.on(F::Autostart),
            define_only: form.on(F::DefineOnly),
            stp: form.on(F::Stp),
            mtu: form.text(F::Mtu),
        }
    }

    /// Whether the definition will have an IPv4 `<ip>` (then it is `ip[0]`).
    pub fn has_ipv4(&self) -> bool {
        self.mode.own_bridge() && !self.ipv4.trim().is_empty()
    }

    /// The request for `build_definition`, and the problems found on the way; a field with
    /// a problem is left out of the request.
    pub fn request(&self) -> (CreateRequest, Vec<(FieldId, String)>) {
        let mut local = Vec::new();
        if let Some(p) = name_problems(&self.name).into_iter().next() {
            local.push((FieldId::Name, p));
        }
        let mut req = CreateRequest {
            name: self.name.clone(),
            autostart: self.autostart,
            ..CreateRequest::default()
        };
        match self.mode {
            NetMode::Bridged => match &self.host_bridge {
                Some(br) => req.devs = vec![br.clone()],
                None => local.push((
                    FieldId::HostBridge,
                    "there is no host bridge to attach to: make one first (e.g. br0 with your NIC in it)".into(),
                )),
            },
            NetMode::Macvtap if self.devices.is_empty() => local.push((
                FieldId::Devices,
                "choose at least one NIC for the pool (Space ticks it)".into(),
            )),
            NetMode::Macvtap => req.devs = self.devices.clone(),
            _ => self.own_bridge_request(&mut req, &mut local),
        }
        req.mode = match self.mode {
            NetMode::Macvtap => self.tap_mode.create_mode().into(),
            m => m.key().into(),
        };
        (req, local)
    }

    fn own_bridge_request(&self, req: &mut CreateRequest, local: &mut Vec<(FieldId, String)>) {
        req.bridge = non_empty(&self.bridge_name);
        req.ipv4 = Some(non_empty(&self.ipv4).unwrap_or_else(|| "none".into()));
        // Without a usable subnet a range cannot be judged: leave it out until there is one.
        let subnet = self.ipv4.trim().parse::<Ipv4Net>().is_ok();
        req.dhcp = match (
            self.has_ipv4() && subnet,
            self.dhcp,
            non_empty(&self.dhcp_range),
        ) {
            (false, _, _) => None,
            (true, false, _) => Some("off".into()),
            (true, true, Some(range)) => Some(range),
            (true, true, None) => {
                let msg = "give the range as START-END, or turn DHCP off";
                local.push((FieldId::DhcpRange, msg.into()));
                Some("off".into())
            }
        };
        if self.ipv6 {
            match non_empty(&self.ipv6_prefix) {
                Some(p) => req.ipv6 = Some(p),
                None => local.push((
                    FieldId::Ipv6Prefix,
                    "give ADDR/PREFIX, e.g. fd00:1:2::1/64, or turn IPv6 off".into(),
                )),
            }
        }
        if self.mode.has_forward_dev() {
            req.forward_dev = self.forward_dev.clone();
        }
        req.domain = non_empty(&self.domain);
        req.stp = Some(self.stp);
        match parse_mtu(&self.mtu) {
            Ok(mtu) => req.mtu = mtu,
            Err(msg) => local.push((FieldId::Mtu, msg)),
        }
    }
}

/// An MTU as typed: empty for the default, else a number of bytes.
fn parse_mtu(text: &str) -> Result<Option<u32>, String> {
    match text.trim() {
        "" => Ok(None),
        t => t
            .parse()
            .map(Some)
            .map_err(|_| format!("'{t}' is not a number of bytes (68-65535)")),
    }
}

/// The form field a problem path from `build_definition` or `validate` concerns, if any.
/// `ip_is_v4(i)` says whether `ip[i]` is the IPv4 block.
pub fn field_for_path(
    path: &str,
    mode: NetMode,
    ip_is_v4: impl Fn(usize) -> bool,
) -> Option<FieldId> {
    let head = path.split(['.', '[']).next().unwrap_or(path);
    Some(match head {
        "name" => FieldId::Name,
        "mtu" => FieldId::Mtu,
        "domain" => FieldId::Domain,
        "ip" if path == "ip" => FieldId::Ipv4,
        "ip" => {
            let index = path[3..].split(']').next()?.parse::<usize>().ok()?;
            match (
                ip_is_v4(index),
                path.contains(".dhcp.range") || path.ends_with(".dhcp"),
            ) {
                (true, true) => FieldId::DhcpRange,
                (true, false) => FieldId::Ipv4,
                (false, _) => FieldId::Ipv6Prefix,
            }
        }
        "forward" => match path {
            "forward" | "forward.mode" => FieldId::Mode,
            p if p.starts_with("forward.dev") || p.starts_with("forward.interface") => {
                device_field(mode)
            }
            _ => return None,
        },
        "bridge" => match path {
            "bridge.stp" => FieldId::Stp,
            "bridge.name" if mode.own_bridge() => FieldId::BridgeName,
            "bridge.name" => device_field(mode),
            _ => return None,
        },
        _ => return None,
    })
}

fn device_field(mode: NetMode) -> FieldId {
    match mode {
        NetMode::Bridged => FieldId::HostBridge,
        NetMode::Macvtap => FieldId::Devices,
        _ => FieldId::ForwardDev,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_reach_their_fields() {
        let v4_first = |i: usize| i == 0;
        let cases = [
            ("name", NetMode::Nat, Some(FieldId::Name)),
            ("ip", NetMode::Nat, Some(FieldId::Ipv4)),
            ("ip[0]", NetMode::Nat, Some(FieldId::Ipv4)),
            ("ip[0].prefix", NetMode::Nat, Some(FieldId::Ipv4)),
            (
                "ip[0].dhcp.range[0]",
                NetMode::Nat,
                Some(FieldId::DhcpRange),
            ),
            ("ip[1].address", NetMode::Nat, Some(FieldId::Ipv6Prefix)),
            ("forward.dev", NetMode::Open, Some(FieldId::ForwardDev)),
            (
                "forward.interface[0]",
                NetMode::Macvtap,
                Some(FieldId::Devices),
            ),
            (
                "forward.interface",
                NetMode::Bridged,
                Some(FieldId::HostBridge),
            ),
            ("bridge.name", NetMode::Nat, Some(FieldId::BridgeName)),
            ("bridge.name", NetMode::Bridged, Some(FieldId::HostBridge)),
            ("bridge.stp", NetMode::Isolated, Some(FieldId::Stp)),
            ("domain.name", NetMode::Nat, Some(FieldId::Domain)),
            ("mtu", NetMode::Route, Some(FieldId::Mtu)),
            ("forward.mode", NetMode::Nat, Some(FieldId::Mode)),
            ("uuid", NetMode::Nat, None),
            ("dns.host[0]", NetMode::Nat, None),
        ];
        for (path, mode, want) in cases {
            assert_eq!(
                field_for_path(path, mode, v4_first),
                want,
                "{path} in {mode:?}"
            );
        }
        assert_eq!(
            field_for_path("ip[0].address", NetMode::Nat, |_| false),
            Some(FieldId::Ipv6Prefix),
            "without IPv4, ip[0] is the IPv6 block"
        );
    }

    #[test]
    fn request_keeps_form_only_problems_on_their_fields() {
        let draft = NetworkDraft {
            name: "a/b".into(),
            ipv4: "10.0.0.1/24".into(),
            dhcp: true,
            ipv6: true,
            mtu: "big".into(),
            ..NetworkDraft::default()
        };
        let (req, local) = draft.request();
        let fields: Vec<FieldId> = local.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                FieldId::Name,
                FieldId::DhcpRange,
                FieldId::Ipv6Prefix,
                FieldId::Mtu
            ]
        );
        assert_eq!((req.mtu, req.dhcp.as_deref()), (None, Some("off")));
    }
}
