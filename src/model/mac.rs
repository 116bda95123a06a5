//! `MacAddr`: a 48-bit Ethernet address.

use std::fmt;
use std::str::FromStr;

/// A 48-bit MAC address. Parses `aa:BB:cc:dd:ee:ff` (one or two hex digits per group, any
/// case); displays lower-case colon form, as libvirt writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

/// Why a MAC address string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a MAC address (expected six hex pairs like 52:54:00:12:34:56)")]
pub struct MacParseError(pub String);

impl MacAddr {
    /// True for group (multicast/broadcast) addresses: the low bit of the first octet.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// True for 00:00:00:00:00:00.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }
}

impl FromStr for MacAddr {
    type Err = MacParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || MacParseError(s.to_string());
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for byte in out.iter_mut() {
            let part = parts.next().ok_or_else(bad)?;
            let ok_len = (1..=2).contains(&part.len());
            if !ok_len || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(MacAddr(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// Serialized as its text, `"52:54:00:12:34:56"`.
impl serde::Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Read from its text, or from six numbers (how records of the first release wrote a bridge's
/// MAC).
impl<'de> serde::Deserialize<'de> for MacAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Form {
            Text(String),
            Bytes([u8; 6]),
        }
        match Form::deserialize(d)? {
            Form::Text(t) => t.parse().map_err(serde::de::Error::custom),
            Form::Bytes(b) => Ok(MacAddr(b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_case_and_prints_lower() {
        let mac: MacAddr = "52:54:00:E6:A2:C9".parse().expect("valid");
        assert_eq!(mac.to_string(), "52:54:00:e6:a2:c9");
        let short: MacAddr = "0:16:3e:7:e2:ed".parse().expect("valid");
        assert_eq!(short.to_string(), "00:16:3e:07:e2:ed");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "52:54:00:e6:a2",
            "52:54:00:e6:a2:c9:00",
            "52-54-00-e6-a2-c9",
            "5g:54:00:e6:a2:c9",
            "123:54:00:e6:a2:c9",
            "+1:54:00:e6:a2:c9",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn serde_as_text_and_from_old_byte_arrays() {
        let mac: MacAddr = "52:54:00:e6:a2:c9".parse().expect("valid");
        let json = serde_json::to_string(&mac).expect("serialize");
        assert_eq!(json, "\"52:54:00:e6:a2:c9\"");
        let back: MacAddr = serde_json::from_str(&json).expect("text");
        assert_eq!(back, mac);
        let old: MacAddr = serde_json::from_str("[82,84,0,230,162,201]").expect("bytes");
        assert_eq!(old, mac);
        assert!(serde_json::from_str::<MacAddr>("\"nope\"").is_err());
    }

    #[test]
    fn multicast_bit() {
        assert!("01:00:5e:00:00:01"
            .parse::<MacAddr>()
            .expect("valid")
            .is_multicast());
        assert!(!"52:54:00:00:00:01"
            .parse::<MacAddr>()
            .expect("valid")
            .is_multicast());
    }
}
