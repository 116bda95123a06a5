//! Reading written files back by dnsmasq's rules and comparing them with the plan they were
//! written from: the writer's proof, used by the golden and property tests.

use super::conf::DnsmasqPlan;
use super::hosts::{parse_addn_hosts, parse_dhcp_hosts};
use super::read::{parse_conf, parse_conf_fields, Options};
use super::DnsmasqFiles;

impl DnsmasqPlan {
    /// The options dnsmasq should read from the configuration: each entry's key and value,
    /// then each raw option line as dnsmasq reads it.
    pub fn expected_conf(&self) -> Result<Options<String>, String> {
        let mut out: Options<String> = self
            .entries
            .iter()
            .map(|e| (e.key.name().to_owned(), e.value_text()))
            .collect();
        for raw in &self.raw_options {
            out.extend(parse_conf(raw).map_err(|e| format!("raw option {raw:?}: {e}"))?);
        }
        Ok(out)
    }

    /// Like [`Self::expected_conf`], with each planned value as its fields.
    fn expected_fields(&self) -> Result<Options<Vec<String>>, String> {
        let mut out: Options<Vec<String>> = self
            .entries
            .iter()
            .map(|e| {
                let fields = e.value_text().map(|_| e.field_texts());
                (e.key.name().to_owned(), fields)
            })
            .collect();
        for raw in &self.raw_options {
            out.extend(parse_conf_fields(raw).map_err(|e| format!("raw option {raw:?}: {e}"))?);
        }
        Ok(out)
    }

    /// Whether dnsmasq reads `files` as exactly this plan: the same options with the same
    /// values split into the same fields, the same DHCP hosts, the same DNS hosts.
    pub fn verify(&self, files: &DnsmasqFiles) -> Result<(), String> {
        same("options", parse_conf(&files.conf), self.expected_conf()?)?;
        same(
            "fields",
            parse_conf_fields(&files.conf),
            self.expected_fields()?,
        )?;
        let hosts = self.dhcp_hosts.iter().map(|(_, l)| l.clone()).collect();
        same("dhcp-hostsfile", parse_dhcp_hosts(&files.hosts), hosts)?;
        let addn = self.addn_hosts.iter().map(|(_, h)| h.clone()).collect();
        same("addn-hosts", parse_addn_hosts(&files.addn_hosts), addn)
    }
}

fn same<T: PartialEq + std::fmt::Debug, E: std::fmt::Display>(
    what: &str,
    read: Result<T, E>,
    planned: T,
) -> Result<(), String> {
    let read = read.map_err(|e| format!("{what}: dnsmasq would not read it: {e}"))?;
    if read == planned {
        return Ok(());
    }
    Err(format!(
        "{what}: dnsmasq reads something else than planned\nread:    {read:?}\nplanned: {planned:?}"
    ))
}
