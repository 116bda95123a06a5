#!/usr/bin/env python3
"""Side-by-side comparison of libvirt 9.0 and switchyard on the same network XML: what a guest
sees (DHCP options, reservations, DNS records, PTR, NAT from upstream, RA, refusals) and how long
start and stop take.

For a developer's machine, as root, not for CI: needs Debian's libvirt-daemon-system (installed
without starting its service: a policy-rc.d that exits 101) and busybox. Everything runs in
network namespaces made here (a host, an upstream and guests per side) and is removed at the
end; libvirtd runs inside the libvirt side's host namespace and is ended by its pid; the two
networks are defined in libvirt for the run and undefined after.

    SWITCHYARD=target/release/switchyard python3 scripts/compare-libvirt.py
"""
import json, os, subprocess, sys, tempfile, time, statistics, signal

PID = os.getpid()
SY = os.path.abspath(os.environ.get("SWITCHYARD", "target/release/switchyard"))
XML = {"cmpnat": """<network>
  <name>cmpnat</name>
  <forward mode='nat'/>
  <bridge name='cmpbr0' stp='off' delay='0'/>
  <mtu size='1400'/>
  <domain name='lab.test' localOnly='yes'/>
  <dns>
    <host ip='10.70.0.50'><hostname>db</hostname></host>
    <srv service='ldap' protocol='tcp' domain='lab.test' target='db.lab.test'/>
    <txt name='info' value='hello, world'/>
  </dns>
  <ip address='10.70.0.1' prefix='24' localPtr='yes'>
    <dhcp>
      <range start='10.70.0.100' end='10.70.0.150'/>
      <host mac='52:54:00:70:00:07' name='seven' ip='10.70.0.7'/>
    </dhcp>
  </ip>
</network>
""",
       "cmpiso": """<network>
  <name>cmpiso</name>
  <bridge name='cmpbr1' stp='off' delay='0'/>
  <domain name='iso.test'/>
  <ip address='10.71.0.1' prefix='24'>
    <dhcp>
      <host mac='52:54:00:71:00:01' name='a' ip='10.71.0.11'/>
      <host mac='52:54:00:71:00:02' name='b' ip='10.71.0.12'/>
      <host mac='52:54:00:71:00:03' name='c' ip='10.71.0.13'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='fd00:71::1' prefix='64'/>
</network>
"""}
OUT = {}


def run(*args, check=True, env=None, timeout=60):
    r = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=timeout)
    if check and r.returncode != 0:
        raise SystemExit(f"{args}: {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def ns_add(name):
    run("ip", "netns", "add", name)
    run("ip", "-n", name, "link", "set", "lo", "up")


class Side:
    def __init__(self, tag):
        self.tag = tag
        self.h = f"cmp{tag}h{PID}"
        self.u = f"cmp{tag}u{PID}"
        self.guests = []
        ns_add(self.h)
        ns_add(self.u)
        run("ip", "-n", self.h, "link", "add", "uplink", "type", "veth", "peer", "name", "eth0", "netns", self.u)
        run("ip", "-n", self.h, "addr", "add", "203.0.113.2/24", "dev", "uplink")
        run("ip", "-n", self.h, "link", "set", "uplink", "up")
        run("ip", "-n", self.u, "addr", "add", "203.0.113.1/24", "dev", "eth0")
        run("ip", "-n", self.u, "link", "set", "eth0", "up")
        run("ip", "-n", self.h, "route", "add", "default", "via", "203.0.113.1")

    def guest(self, bridge, gname, mac=None, accept_ra=False):
        g = f"cmp{self.tag}{gname}{PID}"
        ns_add(g)
        host_end = f"v{self.tag}{gname}"[:15]
        run("ip", "-n", self.h, "link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", g)
        if mac:
            run("ip", "-n", g, "link", "set", "eth0", "address", mac)
        if accept_ra:
            run("ip", "netns", "exec", g, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_ra=2")
        run("ip", "-n", self.h, "link", "set", host_end, "master", bridge, "up")
        run("ip", "-n", g, "link", "set", "eth0", "up")
        self.guests.append(g)
        return g

    def cleanup(self):
        for g in self.guests:
            run("ip", "netns", "del", g, check=False)
        for n in (self.h, self.u):
            run("ip", "netns", "del", n, check=False)


SCRIPT = """#!/bin/sh
case "$1" in bound|renew)
  ip addr flush dev "$interface"; ip addr add "$ip/$mask" dev "$interface"
  [ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
  echo "ip=$ip router=$router dns=$dns domain=$domain mtu=$mtu lease=$lease" > "$LEASE_OUT";;
esac
"""


def dhcp(g):
    d = tempfile.mkdtemp()
    s = os.path.join(d, "s.sh")
    open(s, "w").write(SCRIPT)
    os.chmod(s, 0o755)
    out = os.path.join(d, "lease")
    env = dict(os.environ, LEASE_OUT=out)
    try:
        run("ip", "netns", "exec", g, "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-t", "5", "-T", "1",
            "-O", "mtu", "-O", "domain", "-s", s, env=env, check=False, timeout=20)
    except subprocess.TimeoutExpired:
        return None
    return open(out).read().strip() if os.path.exists(out) else None


def nslookup(g, *args):
    r = run("ip", "netns", "exec", g, "busybox", "nslookup", *args, check=False, timeout=15)
    return (r.stdout + r.stderr).strip().replace("\n", " | ")


def upstream_source(side, g):
    code_listen = ("import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
                   "s.bind(('203.0.113.1',9000));s.settimeout(3);"
                   "print(s.recvfrom(64)[1][0])")
    p = subprocess.Popen(["ip", "netns", "exec", side.u, "python3", "-c", code_listen],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    run("ip", "netns", "exec", g, "python3", "-c",
        "import socket;socket.socket(socket.AF_INET,socket.SOCK_DGRAM).sendto(b'x',('203.0.113.1',9000))",
        check=False)
    out, _ = p.communicate(timeout=10)
    return out.strip() or None


def guest_route6(g):
    for _ in range(30):
        r = run("ip", "-n", g, "-6", "route", check=False).stdout
        if "fd00:71::/64" in r:
            break
        time.sleep(0.5)
    time.sleep(4)
    r = run("ip", "-n", g, "-6", "route", check=False).stdout
    return {"prefix": "fd00:71::/64" in r, "default_route": "default" in r}


def probe(side, start, stop, label):
    res = {}
    start("cmpnat")
    g1 = side.guest("cmpbr0", "g1")
    g7 = side.guest("cmpbr0", "g7", mac="52:54:00:70:00:07")
    time.sleep(0.5)
    res["nat_lease_dynamic"] = dhcp(g1)
    res["nat_lease_reserved"] = dhcp(g7)
    res["dns_host"] = nslookup(g1, "db.lab.test", "10.70.0.1")
    res["dns_srv"] = nslookup(g1, "-type=srv", "_ldap._tcp.lab.test", "10.70.0.1")
    res["dns_ptr_local"] = nslookup(g1, "10.70.0.77", "10.70.0.1")
    res["nat_upstream_sees"] = upstream_source(side, g1)
    res["bridge_mtu"] = run("ip", "-n", side.h, "-o", "link", "show", "cmpbr0").stdout.split(" mtu ")[1].split()[0]
    stop("cmpnat")
    start("cmpiso")
    gs = [side.guest("cmpbr1", f"s{i}", mac=f"52:54:00:71:00:0{i}") for i in (1, 2, 3)]
    res["iso_static_leases"] = [dhcp(g) for g in gs]
    gr = side.guest("cmpbr1", "ra", accept_ra=True)
    res["iso_ipv6_ra"] = guest_route6(gr)
    res["iso_dns_outside"] = nslookup(gs[0], "example.com", "10.71.0.1")
    stop("cmpiso")
    OUT[label] = res


def timings(start, stop, name, rounds=7):
    st, sp = [], []
    for _ in range(rounds):
        t = time.perf_counter(); start(name); st.append(time.perf_counter() - t)
        t = time.perf_counter(); stop(name); sp.append(time.perf_counter() - t)
    return {"start_ms_median": round(statistics.median(st) * 1000, 1),
            "stop_ms_median": round(statistics.median(sp) * 1000, 1)}


def main():
    lv, sy = Side("l"), Side("s")
    home = tempfile.mkdtemp()
    libvirtd = None
    try:
        r = subprocess.Popen(["ip", "netns", "exec", lv.h, "libvirtd", "--pid-file", f"/run/cmp-libvirtd-{PID}.pid"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        libvirtd = r
        for _ in range(50):
            if run("virsh", "-c", "qemu:///system", "version", check=False).returncode == 0:
                break
            time.sleep(0.2)
        virsh = lambda *a: run("virsh", "-c", "qemu:///system", *a)
        for n, xml in XML.items():
            path = os.path.join(home, f"{n}.xml")
            open(path, "w").write(xml)
            virsh("net-define", path)
            run("ip", "netns", "exec", sy.h, SY, "--home", home, "define", path)
        lv_start = lambda n: virsh("net-start", n)
        lv_stop = lambda n: virsh("net-destroy", n)
        sy_start = lambda n: run("ip", "netns", "exec", sy.h, SY, "--home", home, "start", n)
        sy_stop = lambda n: run("ip", "netns", "exec", sy.h, SY, "--home", home, "stop", n)
        probe(lv, lv_start, lv_stop, "libvirt")
        probe(sy, sy_start, sy_stop, "switchyard")
        OUT["timing_libvirt"] = timings(lv_start, lv_stop, "cmpnat")
        OUT["timing_switchyard"] = timings(sy_start, sy_stop, "cmpnat")
        for n in ("cmpnat", "cmpiso"):
            virsh("net-undefine", n)
    finally:
        if libvirtd:
            libvirtd.send_signal(signal.SIGTERM)
            try:
                libvirtd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                libvirtd.kill()
        for n in ("cmpnat", "cmpiso"):
            run("virsh", "-c", "qemu:///system", "net-undefine", n, check=False)
        # libvirt's dnsmasq processes of these networks were started by our libvirtd.
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    cmd = open(f"/proc/{pid}/cmdline", "rb").read()
                except OSError:
                    continue
                if b"/var/lib/libvirt/dnsmasq/cmp" in cmd:
                    os.kill(int(pid), signal.SIGTERM)
        lv.cleanup()
        sy.cleanup()
    print(json.dumps(OUT, indent=1))


main()
