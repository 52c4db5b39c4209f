//! `VideoSize`: the `"WIDTHxHEIGHT"` string of the wire, parsed once.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VideoSize {
    pub width: u32,
    pub height: u32,
}

impl VideoSize {
    pub const fn new(width: u32, height: u32) -> Self {
        Self { width, height }
    }
    pub fn is_portrait(&self) -> bool {
        self.height > self.width
    }
    /// The short side names the tier the catalogue prices ("720p", "1024p", "1080p").
    pub fn short_side(&self) -> u32 {
        self.width.min(self.height)
    }
}

impl fmt::Display for VideoSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("size must look like WIDTHxHEIGHT, e.g. 1280x720")]
pub struct SizeParseError;

impl FromStr for VideoSize {
    type Err = SizeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (w, h) = s.trim().split_once(['x', 'X']).ok_or(SizeParseError)?;
        let parse = |v: &str| -> Result<u32, SizeParseError> {
            if v.is_empty() || v.len() > 5 || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(SizeParseError);
            }
            v.parse::<u32>().map_err(|_| SizeParseError)
        };
        let size = VideoSize::new(parse(w)?, parse(h)?);
        if size.width == 0 || size.height == 0 {
            return Err(SizeParseError);
        }
        Ok(size)
    }
}

impl Serialize for VideoSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VideoSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let s: VideoSize = "1920x1080".parse().unwrap();
        assert_eq!(s, VideoSize::new(1920, 1080));
        assert_eq!(s.to_string(), "1920x1080");
        assert!(!s.is_portrait());
        assert!("720x1280".parse::<VideoSize>().unwrap().is_portrait());
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "", "1280", "x720", "1280x", "0x720", "-1x720", "12a0x720", "999999x1",
        ] {
            assert!(bad.parse::<VideoSize>().is_err(), "{bad}");
        }
    }
}
