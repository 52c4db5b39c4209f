//! `Seconds`: a clip length. A string on the wire (`"8"`), a number everywhere else.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seconds(pub u32);

impl Seconds {
    /// What one create or extension call may ask for (the 2026-03-12 contract).
    pub const ALLOWED: [u32; 5] = [4, 8, 12, 16, 20];
    pub const DEFAULT: Seconds = Seconds(4);
    /// An extension chain may not grow a clip beyond this.
    pub const MAX_TOTAL: u32 = 120;

    pub fn get(self) -> u32 {
        self.0
    }

    /// Parses the wire form. SDKs send a string; hand-written JSON often sends a number, so
    /// integers are accepted too, but only the contract's values.
    pub fn parse_wire(raw: &str) -> Option<Seconds> {
        let v: u32 = raw.trim().parse().ok()?;
        Self::ALLOWED.contains(&v).then_some(Seconds(v))
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            N(u32),
        }
        let v = match Raw::deserialize(d)? {
            Raw::S(s) => s
                .trim()
                .parse::<u32>()
                .map_err(|_| serde::de::Error::custom("seconds must be a whole number"))?,
            Raw::N(n) => n,
        };
        Ok(Seconds(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values() {
        assert_eq!(Seconds::parse_wire("8"), Some(Seconds(8)));
        assert_eq!(Seconds::parse_wire("20"), Some(Seconds(20)));
        assert_eq!(Seconds::parse_wire("5"), None);
        assert_eq!(Seconds::parse_wire("eight"), None);
        assert_eq!(serde_json::to_string(&Seconds(12)).unwrap(), "\"12\"");
        let s: Seconds = serde_json::from_str("16").unwrap();
        assert_eq!(s, Seconds(16));
    }
}
