//! What an update changes ([`Section`]) and how ([`UpdateCommand`]), by `virsh net-update`'s
//! names.

use std::fmt;
use std::str::FromStr;

/// The part of a definition an update changes (libvirt's `virNetworkUpdateSection`, without
/// the sections libvirt refuses to update).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    /// `ip-dhcp-host`: a static host in an `<ip>`'s `<dhcp>`.
    IpDhcpHost,
    /// `ip-dhcp-range`: a `<range>` in an `<ip>`'s `<dhcp>`.
    IpDhcpRange,
    /// `dns-host`: a `<host>` record in `<dns>`.
    DnsHost,
    /// `dns-txt`: a `<txt>` record in `<dns>`.
    DnsTxt,
    /// `dns-srv`: an `<srv>` record in `<dns>`.
    DnsSrv,
    /// `forward-interface`: an `<interface dev>` of `<forward>`.
    ForwardInterface,
    /// `portgroup`: a `<portgroup>`.
    Portgroup,
}

/// Sections `virsh net-update` knows but libvirt refuses to update ("can't update 'bridge'
/// section of network").
const NOT_UPDATABLE: [&str; 5] = ["bridge", "domain", "ip", "forward", "forward-pf"];

impl Section {
    /// Every section that can be updated.
    pub const ALL: [Section; 7] = [
        Section::IpDhcpHost,
        Section::IpDhcpRange,
        Section::DnsHost,
        Section::DnsTxt,
        Section::DnsSrv,
        Section::ForwardInterface,
        Section::Portgroup,
    ];

    /// libvirt's name of the section.
    pub fn as_str(self) -> &'static str {
        match self {
            Section::IpDhcpHost => "ip-dhcp-host",
            Section::IpDhcpRange => "ip-dhcp-range",
            Section::DnsHost => "dns-host",
            Section::DnsTxt => "dns-txt",
            Section::DnsSrv => "dns-srv",
            Section::ForwardInterface => "forward-interface",
            Section::Portgroup => "portgroup",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a section name was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseSectionError {
    /// A section libvirt knows but does not update.
    #[error(
        "can't update '{0}' section of network (libvirt cannot either); change it with `edit`"
    )]
    NotUpdatable(&'static str),
    /// Not a section name at all.
    #[error("unrecognized section name '{0}' (expected one of {list})", list = section_list())]
    Unknown(String),
}

fn section_list() -> String {
    let names: Vec<&str> = Section::ALL.iter().map(|s| s.as_str()).collect();
    names.join(", ")
}

impl FromStr for Section {
    type Err = ParseSectionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(section) = Section::ALL.into_iter().find(|x| x.as_str() == s) {
            return Ok(section);
        }
        match NOT_UPDATABLE.iter().find(|name| **name == s) {
            Some(name) => Err(ParseSectionError::NotUpdatable(name)),
            None => Err(ParseSectionError::Unknown(s.escape_debug().to_string())),
        }
    }
}

/// How an update changes its section (`virNetworkUpdateCommand`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UpdateCommand {
    /// `add`: the same as `add-last`.
    Add,
    /// `add-first`: insert before the existing entries.
    AddFirst,
    /// `add-last`: append after the existing entries.
    AddLast,
    /// `delete`: remove the entry the fragment matches.
    Delete,
    /// `modify`: replace the entry the fragment matches.
    Modify,
}

impl UpdateCommand {
    /// Every command, `add` first.
    pub const ALL: [UpdateCommand; 5] = [
        UpdateCommand::Add,
        UpdateCommand::AddFirst,
        UpdateCommand::AddLast,
        UpdateCommand::Delete,
        UpdateCommand::Modify,
    ];

    /// virsh's name of the command.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateCommand::Add => "add",
            UpdateCommand::AddFirst => "add-first",
            UpdateCommand::AddLast => "add-last",
            UpdateCommand::Delete => "delete",
            UpdateCommand::Modify => "modify",
        }
    }

    /// True for `add`, `add-first` and `add-last`.
    pub fn is_add(self) -> bool {
        matches!(
            self,
            UpdateCommand::Add | UpdateCommand::AddFirst | UpdateCommand::AddLast
        )
    }

    /// Where an added entry goes in a list of `len` entries.
    pub(super) fn insert_at(self, len: usize) -> usize {
        if self == UpdateCommand::AddFirst {
            0
        } else {
            len
        }
    }
}

impl fmt::Display for UpdateCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown update command.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unrecognized command name '{0}' (expected add, add-first, add-last, delete or modify)")]
pub struct ParseCommandError(pub String);

impl FromStr for UpdateCommand {
    type Err = ParseCommandError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UpdateCommand::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ParseCommandError(s.escape_debug().to_string()))
    }
}
