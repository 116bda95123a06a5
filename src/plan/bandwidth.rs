//! `<bandwidth>` on a network's bridge, as libvirt applies it (pure): the `tc` argument
//! vectors of libvirt 9.0's `virNetDevBandwidthSet` for a network (hierarchical classes, the
//! directions seen from the guests): traffic towards the guests (`inbound`) is shaped by an
//! HTB tree on the bridge's egress, traffic from the guests (`outbound`) is policed at its
//! ingress. Every argument is a number switchyard formats or a validated interface name; the
//! vectors are run without a shell.

use serde::{Deserialize, Serialize};

use crate::model::{BandwidthDef, RateDef};

/// One direction's rates, kbytes/s and kbytes as in libvirt's XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub average: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
}

/// The shaping of one bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shaping {
    /// Towards the guests: egress of the bridge.
    pub inbound: Option<Rate>,
    /// From the guests: ingress of the bridge.
    pub outbound: Option<Rate>,
}

fn rate(r: &Option<RateDef>) -> Option<Rate> {
    let r = r.as_ref()?;
    Some(Rate {
        average: r.average.filter(|a| *a > 0)?,
        peak: r.peak.filter(|p| *p > 0),
        burst: r.burst.filter(|b| *b > 0),
    })
}

/// What a `<bandwidth>` asks of the bridge; `None` when it asks for nothing.
pub fn shaping(bw: &BandwidthDef) -> Option<Shaping> {
    let s = Shaping {
        inbound: rate(&bw.inbound),
        outbound: rate(&bw.outbound),
    };
    (s.inbound.is_some() || s.outbound.is_some()).then_some(s)
}

fn v(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// libvirt's HTB quantum for a class: its rate in bytes per MTU-sized packet, at least 1.
fn quantum(r: &Rate) -> String {
    (r.average.saturating_mul(1024) / 8 / 1500)
        .max(1)
        .to_string()
}

/// The `tc` argument vectors that shape `dev` (run in order, after [`clear`]).
pub fn commands(dev: &str, s: &Shaping) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    if let Some(tx) = &s.inbound {
        let average = format!("{}kbps", tx.average);
        let peak = tx.peak.map(|p| format!("{p}kbps"));
        out.push(v(&[
            "qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "2",
        ]));
        let ceil = peak.clone().unwrap_or_else(|| average.clone());
        let mut top = v(&[
            "class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb",
        ]);
        top.extend(v(&[
            "rate",
            &average,
            "ceil",
            &ceil,
            "quantum",
            &quantum(tx),
        ]));
        out.push(top);
        let mut class = v(&[
            "class", "add", "dev", dev, "parent", "1:1", "classid", "1:2",
        ]);
        class.extend(v(&["htb", "rate", &average]));
        if let Some(p) = &peak {
            class.extend(v(&["ceil", p]));
        }
        if let Some(b) = tx.burst {
            class.extend(v(&["burst", &format!("{b}kb")]));
        }
        class.extend(v(&["quantum", &quantum(tx)]));
        out.push(class);
        out.push(v(&[
            "qdisc", "add", "dev", dev, "parent", "1:2", "handle", "2:", "sfq", "perturb", "10",
        ]));
        out.push(v(&[
            "filter", "add", "dev", dev, "parent", "1:0", "protocol", "all", "prio", "1", "handle",
            "1", "fw", "flowid", "1",
        ]));
    }
    if let Some(rx) = &s.outbound {
        let average = format!("{}kbps", rx.average);
        let burst = match rx.burst {
            Some(b) => format!("{b}kb"),
            None => format!("{}kb", rx.average.min(u64::from(u32::MAX) / 1024)),
        };
        out.push(v(&["qdisc", "add", "dev", dev, "ingress"]));
        out.push(v(&[
            "filter", "add", "dev", dev, "parent", "ffff:", "protocol", "all", "u32", "match",
            "u32", "0", "0", "police", "rate", &average, "burst", &burst, "mtu", "64kb", "drop",
            "flowid", ":1",
        ]));
    }
    out
}

/// The `tc` argument vectors that remove any shaping of `dev` (their failures, for what was
/// not there, are expected).
pub fn clear(dev: &str) -> Vec<Vec<String>> {
    vec![
        v(&["qdisc", "del", "dev", dev, "root"]),
        v(&["qdisc", "del", "dev", dev, "ingress"]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libvirts_commands_for_both_directions() {
        let s = Shaping {
            inbound: Some(Rate {
                average: 1000,
                peak: Some(5000),
                burst: Some(1024),
            }),
            outbound: Some(Rate {
                average: 128,
                peak: None,
                burst: None,
            }),
        };
        let text: Vec<String> = commands("sybr0", &s).iter().map(|c| c.join(" ")).collect();
        assert_eq!(
            text,
            [
                "qdisc add dev sybr0 root handle 1: htb default 2",
                "class add dev sybr0 parent 1: classid 1:1 htb rate 1000kbps ceil 5000kbps quantum 85",
                "class add dev sybr0 parent 1:1 classid 1:2 htb rate 1000kbps ceil 5000kbps burst 1024kb quantum 85",
                "qdisc add dev sybr0 parent 1:2 handle 2: sfq perturb 10",
                "filter add dev sybr0 parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
                "qdisc add dev sybr0 ingress",
                "filter add dev sybr0 parent ffff: protocol all u32 match u32 0 0 police rate 128kbps burst 128kb mtu 64kb drop flowid :1",
            ]
        );
    }

    #[test]
    fn nothing_asked_is_no_shaping() {
        assert_eq!(shaping(&BandwidthDef::default()), None);
    }
}
