//! Viewer and model ids. An id is 1-64 characters of `[A-Za-z0-9_-]`: safe in URLs, file names,
//! HTML and Redis keys without escaping. Viewer ids double as capabilities (knowing one lets a page
//! watch that viewer), so fresh ones are random.

use std::fmt;

use serde::Serialize;

/// The rule every id follows, for error messages.
pub const ID_RULE: &str = "1-64 characters of A-Z, a-z, 0-9, '_' or '-'";

/// [`ID_RULE`] as a regular expression, for the API document.
pub const ID_PATTERN: &str = "^[A-Za-z0-9_-]{1,64}$";

/// Why a string is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid id: expected {ID_RULE}")]
pub struct InvalidId {
    /// The offending value, cut to a readable length.
    pub value: String,
}

fn check(value: &str) -> Result<(), InvalidId> {
    let ok = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(InvalidId {
            value: value.chars().take(80).collect(),
        })
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks `value` against [`ID_RULE`].
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidId> {
                let value = value.into();
                check(&value)?;
                Ok($name(value))
            }

            /// A fresh random id (a UUID v4 in 32 hex digits).
            pub fn random() -> Self {
                $name(uuid::Uuid::new_v4().simple().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        #[cfg(feature = "server")]
        impl<'a> rocket::request::FromParam<'a> for $name {
            type Error = InvalidId;

            fn from_param(param: &'a str) -> Result<Self, Self::Error> {
                $name::new(param)
            }
        }
    };
}

id_type!(
    /// Names one viewer: the pages showing it, its current model, config, status and events.
    ViewerId
);
id_type!(
    /// Names one stored model. Models are immutable, so a model id also names its bytes.
    ModelId
);

id_type!(
    /// The name a kernel gives itself in its polls for measurements (the Python bridge: a random
    /// one per answerer), so that its marks are told from another kernel's.
    KernelName
);

/// Names one part of a stored model's geometry: the SHA-256 of its bytes, as 64 lowercase hex
/// digits. A part is stored once however many models (and versions) hold it, and never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartHash([u8; 32]);

/// Why a string is not a part hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a part hash: expected 64 lowercase hex digits (a SHA-256)")]
pub struct InvalidPartHash {
    pub value: String,
}

impl PartHash {
    /// The hash of `bytes`.
    #[cfg(feature = "server")]
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest as _;
        PartHash(sha2::Sha256::digest(bytes).into())
    }

    /// Reads the 64 hex digits [`PartHash`]'s `Display` writes.
    pub fn parse(value: &str) -> Result<Self, InvalidPartHash> {
        let invalid = || InvalidPartHash {
            value: value.chars().take(80).collect(),
        };
        let digits = value.as_bytes();
        if digits.len() != 64 {
            return Err(invalid());
        }
        let nibble = |d: u8| match d {
            b'0'..=b'9' => Some(d - b'0'),
            b'a'..=b'f' => Some(d - b'a' + 10),
            _ => None,
        };
        let mut hash = [0u8; 32];
        for (byte, pair) in hash.iter_mut().zip(digits.chunks(2)) {
            *byte =
                nibble(pair[0]).ok_or_else(invalid)? << 4 | nibble(pair[1]).ok_or_else(invalid)?;
        }
        Ok(PartHash(hash))
    }
}

impl fmt::Display for PartHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl Serialize for PartHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PartHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<str>>::deserialize(deserializer)?;
        PartHash::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "server")]
impl<'a> rocket::request::FromParam<'a> for PartHash {
    type Error = InvalidPartHash;

    fn from_param(param: &'a str) -> Result<Self, Self::Error> {
        PartHash::parse(param)
    }
}

impl ViewerId {
    /// The viewer that pages and uploads use when they name none.
    pub fn default_viewer() -> Self {
        ViewerId("default".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        assert!(ViewerId::new("default").is_ok());
        assert!(ViewerId::new("a-B_9").is_ok());
        assert!(ViewerId::new("x".repeat(64)).is_ok());
    }

    #[test]
    fn rejects_everything_else() {
        for bad in ["", "a/b", "..", "a b", "<script>", "é", &"x".repeat(65)] {
            let err = ViewerId::new(bad).unwrap_err();
            assert!(err.to_string().contains("not a valid id"), "{bad}");
        }
    }

    /// The cases both notebook bridges' tests read (`tests/fixtures/rules.json`).
    #[test]
    fn the_rule_the_bridges_share_holds() {
        let rules: serde_json::Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/rules.json"
        )))
        .unwrap();
        assert_eq!(rules["ids"]["rule"], ID_RULE);
        for id in rules["ids"]["valid"].as_array().unwrap() {
            assert!(ViewerId::new(id.as_str().unwrap()).is_ok(), "{id}");
        }
        for id in rules["ids"]["invalid"].as_array().unwrap() {
            assert!(ViewerId::new(id.as_str().unwrap()).is_err(), "{id}");
        }
    }

    #[test]
    #[cfg(feature = "server")]
    fn part_hashes_read_back_what_they_write() {
        let hash = PartHash::of(b"abc");
        let text = hash.to_string();
        assert_eq!(
            text,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(PartHash::parse(&text), Ok(hash));
        for bad in [
            "",
            "BA7816BF",
            &text.to_uppercase(),
            &text[1..],
            &format!("{text}0"),
        ] {
            assert!(PartHash::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn random_ids_are_valid_and_distinct() {
        let (a, b) = (ModelId::random(), ModelId::random());
        assert_ne!(a, b);
        assert!(ModelId::new(a.as_str()).is_ok());
    }
}
