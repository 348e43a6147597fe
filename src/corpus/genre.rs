//! A dance's genre, parsed once where a corpus names it: [`Genre`] is never empty and never the
//! word `unknown`; a dance whose corpus does not say has `None`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// The name a corpus gives a dance's genre (`waltz`, `rumba`, ...).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Genre(String);

/// How a dance without a genre is shown.
pub const UNKNOWN: &str = "unknown";

impl Genre {
    /// `None` for an empty name or `unknown` (the word choreo's index format 2 stored for none).
    pub fn parse(name: &str) -> Option<Genre> {
        let name = name.trim();
        (!name.is_empty() && !name.eq_ignore_ascii_case(UNKNOWN)).then(|| Genre(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name shown for a genre that may be missing ([`UNKNOWN`] then).
    pub fn label(genre: Option<&Genre>) -> &str {
        genre.map_or(UNKNOWN, Genre::as_str)
    }
}

impl fmt::Display for Genre {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// serde's `deserialize_with` for an `Option<Genre>` field: null, a missing field (with
/// `#[serde(default)]`), `""` and `"unknown"` all read as `None`.
pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Genre>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.as_deref().and_then(Genre::parse))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_empty_are_none() {
        assert_eq!(Genre::parse(" waltz ").as_ref().map(Genre::as_str), Some("waltz"));
        assert_eq!(Genre::parse("Unknown"), None);
        assert_eq!(Genre::parse(""), None);
        assert_eq!(Genre::label(None), "unknown");
        #[derive(Deserialize)]
        struct S {
            #[serde(default, deserialize_with = "deserialize_opt")]
            genre: Option<Genre>,
        }
        let read = |j: &str| serde_json::from_str::<S>(j).unwrap().genre;
        assert_eq!(read(r#"{"genre": "unknown"}"#), None);
        assert_eq!(read(r#"{"genre": null}"#), None);
        assert_eq!(read("{}"), None);
        assert_eq!(read(r#"{"genre": "tango"}"#), Genre::parse("tango"));
        assert_eq!(serde_json::to_string(&Genre::parse("tango")).unwrap(), r#""tango""#);
    }
}
