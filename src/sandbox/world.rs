//! The sandbox's private world: a "host" namespace where switchyard runs, an "upstream"
//! namespace behind its uplink, and guest namespaces plugged into the networks' bridges. All of
//! it lives in namespaces this process made; dropping the world removes every one of them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use color_eyre::eyre::{eyre, Result, WrapErr};

use crate::backend::Backend;
use crate::host::{Host, RealHost};
use crate::host::{Netlink, NetnsGuard};
use crate::store::Paths;

pub const UPSTREAM_ADDR: &str = "198.51.100.1";
pub const UPLINK_ADDR: &str = "198.51.100.2";

/// A guest: its namespace, which network it sits on, its MAC and (if reserved) its address.
pub struct GuestSpec {
    pub name: &'static str,
    pub network: &'static str,
    pub mac: &'static str,
    pub reserved_ip: Option<&'static str>,
}

pub const GUESTS: [GuestSpec; 5] = [
    GuestSpec {
        name: "web1",
        network: "default",
        mac: "52:54:00:5b:00:01",
        reserved_ip: Some("192.168.150.11"),
    },
    GuestSpec {
        name: "web2",
        network: "default",
        mac: "52:54:00:5b:00:02",
        reserved_ip: None,
    },
    GuestSpec {
        name: "build",
        network: "lab",
        mac: "52:54:00:5b:00:03",
        reserved_ip: Some("10.10.0.13"),
    },
    GuestSpec {
        name: "db1",
        network: "backend",
        mac: "52:54:00:5b:00:04",
        reserved_ip: Some("10.20.0.14"),
    },
    GuestSpec {
        name: "db2",
        network: "backend",
        mac: "52:54:00:5b:00:05",
        reserved_ip: Some("10.20.0.15"),
    },
];

/// The three networks, as libvirt XML (static reservations for the guests that have one).
fn network_xml() -> [String; 3] {
    let hosts = |net: &str| -> String {
        GUESTS
            .iter()
            .filter(|g| g.network == net)
            .filter_map(|g| {
                g.reserved_ip
                    .map(|ip| format!("<host mac='{}' name='{}' ip='{ip}'/>", g.mac, g.name))
            })
            .collect()
    };
    [
        format!(
            "<network><name>default</name><forward mode='nat'/><bridge name='sybr0' stp='off'/>\
         <domain name='sandbox.test'/><ip address='192.168.150.1' prefix='24'><dhcp>\
         <range start='192.168.150.100' end='192.168.150.200'/>{}</dhcp></ip></network>",
            hosts("default")
        ),
        format!(
            "<network><name>lab</name><forward mode='route'/><bridge name='sybr1' stp='off'/>\
         <ip address='10.10.0.1' prefix='24'><dhcp><range start='10.10.0.100' end='10.10.0.200'/>{}\
         </dhcp></ip></network>",
            hosts("lab")
        ),
        format!(
            "<network><name>backend</name><bridge name='sybr2' stp='off'/>\
         <ip address='10.20.0.1' prefix='24'><dhcp><range start='10.20.0.100' end='10.20.0.200'/>{}\
         </dhcp></ip></network>",
            hosts("backend")
        ),
    ]
}

/// The host port of the sandbox's UDP forward to web1's echo server.
pub const ECHO_FORWARD_PORT: u16 = 7007;

/// Port forwards into the NAT network, to web1 by name (it has a reservation): its echo
/// server over UDP (upstream sends through it, see `start_traffic`), and TCP 8080 to port 80.
fn forwards() -> Vec<crate::model::Forward> {
    use crate::model::forward::{Forward, GuestRef, PortRange, Proto, Target};
    let web1 = || Target::Guest(GuestRef::Name("web1".into()));
    vec![
        Forward {
            proto: Proto::Udp,
            port: PortRange::single(ECHO_FORWARD_PORT),
            address: None,
            target: web1(),
            to_port: Some(PortRange::single(super::traffic::ECHO_PORT)),
            comment: Some("web1 echo".into()),
        },
        Forward {
            proto: Proto::Tcp,
            port: PortRange::single(8080),
            address: None,
            target: web1(),
            to_port: Some(PortRange::single(80)),
            comment: Some("web1 http".into()),
        },
    ]
}

/// Everything the sandbox made. Drop tears it down in reverse.
pub struct World {
    pub home: PathBuf,
    /// Removed on drop unless kept.
    pub remove_home: bool,
    pub host: NetnsGuard,
    pub upstream: NetnsGuard,
    pub guests: Vec<(NetnsGuard, &'static GuestSpec)>,
    /// DHCP clients running in the guests, ended by pid on drop.
    pub dhcp_clients: Vec<Child>,
    /// Where the sandbox's switchyard keeps its files (a backend is opened inside the host
    /// namespace for each use: its netlink connection belongs there).
    pub paths: Paths,
}

/// Runs `fut` in `ns` and flattens the two error layers.
fn in_ns<T: Send, F: std::future::Future<Output = Result<T>>>(
    ns: &NetnsGuard,
    make: impl FnOnce() -> F + Send,
) -> Result<T> {
    ns.block_on(make)?
}

impl World {
    /// Builds the namespaces, the uplink and the guests' cables, defines the networks and
    /// starts them. On any error, what was built so far is removed (by drop).
    pub fn build(home: PathBuf, remove_home: bool) -> Result<World> {
        let pid = std::process::id();
        let host = NetnsGuard::create_named(&format!("sbx{pid}-host"))?;
        let upstream = NetnsGuard::create_named(&format!("sbx{pid}-upstream"))?;
        let mut world = World {
            paths: Paths::under(&home),
            home,
            remove_home,
            host,
            upstream,
            guests: Vec::new(),
            dhcp_clients: Vec::new(),
        };
        world.uplink()?;
        world.networks()?;
        for spec in &GUESTS {
            let ns = NetnsGuard::create_named(&format!("{}-{pid}", spec.name))?;
            world.cable(&ns, spec)?;
            world.guests.push((ns, spec));
        }
        Ok(world)
    }

    fn uplink(&self) -> Result<()> {
        let up_fd = self.upstream.open()?;
        in_ns(&self.host, || async move {
            let nl = Netlink::connect().await?;
            nl.set_up("lo").await?;
            nl.create_veth("uplink", "wan0").await?;
            nl.move_to_netns("wan0", &up_fd).await?;
            nl.add_addr("uplink", format!("{UPLINK_ADDR}/24").parse()?)
                .await?;
            nl.set_up("uplink").await?;
            nl.add_route("0.0.0.0/0".parse()?, Some(UPSTREAM_ADDR.parse()?), None)
                .await?;
            // A second "NIC" on the LAN, free for macvtap attachments made in the sandbox.
            nl.create_veth("lan0", "lan0-peer").await?;
            nl.move_to_netns("lan0-peer", &up_fd).await?;
            nl.set_up("lan0").await?;
            // A host bridge on the LAN (as an admin's br0), so bridged mode can be tried.
            nl.create_bridge(&crate::host::BridgeSpec {
                ifindex: None,
                name: "lanbr0".into(),
                mac: None,
                mtu: None,
                stp: false,
                forward_delay_cs: 0,
            })
            .await?;
            nl.create_veth("lan1", "lan1-peer").await?;
            nl.move_to_netns("lan1-peer", &up_fd).await?;
            nl.set_master("lan1", "lanbr0").await?;
            nl.set_up("lan1").await?;
            nl.set_up("lanbr0").await?;
            Ok(())
        })?;
        in_ns(&self.upstream, || async {
            let nl = Netlink::connect().await?;
            nl.set_up("lo").await?;
            nl.add_addr("wan0", format!("{UPSTREAM_ADDR}/24").parse()?)
                .await?;
            nl.set_up("wan0").await?;
            nl.set_up("lan0-peer").await?;
            nl.set_up("lan1-peer").await?;
            // The routed network is reachable from upstream, as an operator's router would have it.
            nl.add_route("10.10.0.0/24".parse()?, Some(UPLINK_ADDR.parse()?), None)
                .await?;
            Ok(())
        })
    }

    fn networks(&self) -> Result<()> {
        let paths = self.paths.clone();
        in_ns(&self.host, || async move {
            let backend = Backend::new(paths, RealHost::connect().await?);
            let facts = crate::backend::host_facts(&backend.host().observe().await?);
            for xml in network_xml() {
                let def = backend.define_xml(&xml, &facts)?;
                backend.set_autostart(&def.name, true)?;
                backend
                    .start(&def.name, |_, _| {})
                    .await
                    .wrap_err_with(|| format!("starting sandbox network {}", def.name))?;
            }
            for f in forwards() {
                let key = f.key();
                // `force`: the listener check reads the sockets of the process's namespace,
                // not the sandbox's host namespace this thread entered.
                backend
                    .add_forward("default", f, true, None)
                    .await
                    .wrap_err_with(|| format!("adding sandbox forward {key}"))?;
            }
            Ok(())
        })
    }

    /// A veth from the guest (eth0, with the guest's MAC) to the network's bridge (vnetN).
    fn cable(&self, guest: &NetnsGuard, spec: &GuestSpec) -> Result<()> {
        let index = self.guests.len();
        let port = format!("vnet{index}");
        let xml = crate::store::Store::new(self.paths.clone()).load(spec.network)?;
        let bridge = crate::model::parse_network_xml(&xml)?
            .bridge_name()
            .map(str::to_owned);
        let bridge = bridge.ok_or_else(|| eyre!("network {} has no bridge", spec.network))?;
        let host_fd = self.host.open()?;
        let mac: crate::model::MacAddr = spec
            .mac
            .parse()
            .map_err(|_| eyre!("bad MAC {}", spec.mac))?;
        let p = port.clone();
        in_ns(guest, || async move {
            let nl = Netlink::connect().await?;
            nl.set_up("lo").await?;
            nl.create_veth("eth0", &p).await?;
            nl.move_to_netns(&p, &host_fd).await?;
            set_mac(&nl, "eth0", mac.0).await?;
            nl.set_up("eth0").await?;
            Ok(())
        })?;
        in_ns(&self.host, || async move {
            let nl = Netlink::connect().await?;
            nl.set_master(&port, &bridge).await?;
            nl.set_up(&port).await?;
            Ok(())
        })
    }

    /// Starts a DHCP client (busybox udhcpc) in every guest.
    pub fn start_dhcp(&mut self) -> Result<()> {
        let script = self.home.join("udhcpc.sh");
        crate::store::write_atomic(&script, UDHCPC_SCRIPT.as_bytes())?;
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        for (ns, spec) in &self.guests {
            let child = dhcp_client(ns, spec.name, &script)?;
            self.dhcp_clients.push(child);
        }
        Ok(())
    }
}

async fn set_mac(nl: &Netlink, name: &str, mac: [u8; 6]) -> Result<()> {
    nl.set_address(name, mac).await.map_err(Into::into)
}

/// The udhcpc script: configures the lease in the guest.
const UDHCPC_SCRIPT: &str = r#"#!/bin/sh
case "$1" in
  deconfig) ip addr flush dev "$interface" ;;
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    if [ -n "$router" ]; then ip route replace default via "${router%% *}" dev "$interface"; fi
    ;;
esac
exit 0
"#;

fn dhcp_client(ns: &NetnsGuard, hostname: &str, script: &Path) -> Result<Child> {
    Command::new("ip")
        .args([
            "netns",
            "exec",
            ns.name(),
            "busybox",
            "udhcpc",
            "-f",
            "-i",
            "eth0",
            "-t",
            "20",
            "-T",
            "1",
            "-x",
        ])
        .arg(format!("hostname:{hostname}"))
        .arg("-s")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .wrap_err("cannot start busybox udhcpc; install it with: apt-get install busybox")
}

impl Drop for World {
    fn drop(&mut self) {
        for child in &mut self.dhcp_clients {
            let _ = child.kill();
            let _ = child.wait();
        }
        let paths = self.paths.clone();
        let _ = self.host.block_on(|| async move {
            let Ok(host) = RealHost::connect().await else {
                return;
            };
            let backend = Backend::new(paths, host);
            for name in backend.store.names().unwrap_or_default() {
                if backend.record(&name).is_ok_and(|r| r.is_some()) {
                    let _ = backend.stop(&name, |_, _| {}).await;
                }
            }
        });
        self.guests.clear();
        if self.remove_home {
            let _ = std::fs::remove_dir_all(&self.home);
        }
        // host and upstream namespaces are removed when their guards drop, after this.
    }
}
