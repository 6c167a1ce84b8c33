//! Viewer settings: ocp_vscode's config keys (`theme`, `axes`, `treeWidth`, ...), which a
//! model, a viewer and the server each carry and pages merge in that order.
//!
//! [`SETTINGS`] is the one definition of the keys the page understands and the values each
//! takes: [`check`] refuses a config change by it, and [`json_schema`] describes it in the API
//! document, so the two cannot disagree. Any other key passes through untouched (ocp_vscode
//! sends many the page ignores, such as `_splash` or `deviation`), and `null` leaves a key to the
//! page's default.

use serde_json::{json, Map, Value};

/// What a known setting accepts.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// One of these strings.
    OneOf(&'static [&'static str]),
    Bool,
    /// A number from `min` to `max`, both included.
    Number {
        min: f64,
        max: f64,
    },
    /// A number above zero.
    Positive,
    /// A whole number from `min` to `max`, both included.
    Integer {
        min: i64,
        max: i64,
    },
    /// An array of this many booleans, or one boolean for all of them.
    Bools(usize),
    /// An array of this many numbers.
    Numbers(usize),
    /// `"#rrggbb"`, or the same colour as an integer.
    Color,
    /// ocp_vscode's tree collapse: -1 to 3, or one of the letters the renderer's buttons use.
    Collapse,
    /// An object (the renderer reads what it knows of it).
    Object,
}

/// The themes a page takes.
pub const THEMES: &[&str] = &["light", "dark", "browser"];
const CONTROLS: &[&str] = &["trackball", "orbit"];
const UPS: &[&str] = &["Z", "Y", "L"];
const CAMERA_RESETS: &[&str] = &[
    "reset", "center", "keep", "iso", "top", "bottom", "left", "right", "front", "rear",
];
const COLLAPSE_LETTERS: &[&str] = &["1", "R", "C", "E"];

/// Every setting the page reads, with the values it takes.
pub const SETTINGS: &[(&str, Rule)] = &[
    ("theme", Rule::OneOf(THEMES)),
    ("control", Rule::OneOf(CONTROLS)),
    ("up", Rule::OneOf(UPS)),
    ("resetCamera", Rule::OneOf(CAMERA_RESETS)),
    ("ortho", Rule::Bool),
    ("axes", Rule::Bool),
    ("axes0", Rule::Bool),
    ("grid", Rule::Bools(3)),
    ("centerGrid", Rule::Bool),
    ("ticks", Rule::Integer { min: 1, max: 1000 }),
    ("transparent", Rule::Bool),
    ("blackEdges", Rule::Bool),
    ("tools", Rule::Bool),
    ("glass", Rule::Bool),
    ("pinning", Rule::Bool),
    ("measureTools", Rule::Bool),
    ("keymap", Rule::Object),
    (
        "treeWidth",
        Rule::Integer {
            min: 0,
            max: 10_000,
        },
    ),
    ("collapse", Rule::Collapse),
    ("edgeColor", Rule::Color),
    ("defaultOpacity", Rule::Number { min: 0.0, max: 1.0 }),
    ("metalness", Rule::Number { min: 0.0, max: 1.0 }),
    ("roughness", Rule::Number { min: 0.0, max: 1.0 }),
    (
        "ambientIntensity",
        Rule::Number {
            min: 0.0,
            max: 100.0,
        },
    ),
    (
        "directIntensity",
        Rule::Number {
            min: 0.0,
            max: 100.0,
        },
    ),
    (
        "normalLen",
        Rule::Number {
            min: 0.0,
            max: f64::MAX,
        },
    ),
    ("zoom", Rule::Positive),
    ("panSpeed", Rule::Positive),
    ("rotateSpeed", Rule::Positive),
    ("zoomSpeed", Rule::Positive),
    ("position", Rule::Numbers(3)),
    ("target", Rule::Numbers(3)),
    ("quaternion", Rule::Numbers(4)),
    ("clipIntersection", Rule::Bool),
    ("clipPlaneHelpers", Rule::Bool),
    ("clipObjectColors", Rule::Bool),
    ("clipNormal0", Rule::Numbers(3)),
    ("clipNormal1", Rule::Numbers(3)),
    ("clipNormal2", Rule::Numbers(3)),
    (
        "clipSlider0",
        Rule::Number {
            min: f64::MIN,
            max: f64::MAX,
        },
    ),
    (
        "clipSlider1",
        Rule::Number {
            min: f64::MIN,
            max: f64::MAX,
        },
    ),
    (
        "clipSlider2",
        Rule::Number {
            min: f64::MIN,
            max: f64::MAX,
        },
    ),
];

/// The server-wide viewer defaults a fresh server starts with (ocp_vscode's config keys).
pub fn initial_defaults() -> Map<String, Value> {
    let defaults = serde_json::json!({
        "theme": "browser",
        "control": "trackball",
        "up": "Z",
        "ortho": true,
        "axes": false,
        "axes0": false,
        "grid": [false, false, false],
        "transparent": false,
        "blackEdges": false,
        "tools": true,
        "glass": true,
        "treeWidth": 240,
        "resetCamera": "reset",
    });
    defaults.as_object().cloned().unwrap_or_default()
}

/// A setting with a value it does not take: where (`$.theme`) and what it takes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct BadSetting {
    pub path: String,
    pub message: String,
}

/// Checks every known key of `config` against [`SETTINGS`]; other keys and `null`s pass.
pub fn check(config: &Map<String, Value>) -> Result<(), BadSetting> {
    for (key, rule) in SETTINGS {
        match config.get(*key) {
            None | Some(Value::Null) => {}
            Some(value) if rule.accepts(value) => {}
            Some(value) => {
                return Err(BadSetting {
                    path: format!("$.{key}"),
                    message: format!("{key} takes {}, not {value}", rule.describe()),
                })
            }
        }
    }
    Ok(())
}

/// The JSON Schema of a config object: every known key with its values (or `null`), and any
/// other key allowed.
pub fn json_schema() -> Value {
    let properties: Map<String, Value> = SETTINGS
        .iter()
        .map(|(key, rule)| {
            let mut schema = rule.schema();
            schema["description"] = json!(format!(
                "takes {}; null: the page's default",
                rule.describe()
            ));
            (
                key.to_string(),
                json!({ "anyOf": [schema, { "type": "null" }] }),
            )
        })
        .collect();
    json!({
        "type": "object",
        "description": "Viewer settings (ocp_vscode's config keys). The known keys are checked; \
                        any other key is kept as sent, for ocp_vscode compatibility.",
        "properties": properties,
        "additionalProperties": true,
    })
}

impl Rule {
    fn accepts(&self, value: &Value) -> bool {
        match *self {
            Rule::OneOf(choices) => value.as_str().is_some_and(|s| choices.contains(&s)),
            Rule::Bool => value.is_boolean(),
            Rule::Number { min, max } => value.as_f64().is_some_and(|n| n >= min && n <= max),
            Rule::Positive => value.as_f64().is_some_and(|n| n > 0.0),
            Rule::Integer { min, max } => whole(value).is_some_and(|n| n >= min && n <= max),
            Rule::Bools(len) => {
                value.is_boolean()
                    || array_of(value, len).is_some_and(|items| items.iter().all(Value::is_boolean))
            }
            Rule::Numbers(len) => {
                array_of(value, len).is_some_and(|items| items.iter().all(Value::is_number))
            }
            Rule::Color => match value {
                Value::String(s) => {
                    s.len() == 7
                        && s.starts_with('#')
                        && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
                }
                _ => whole(value).is_some_and(|n| (0..=0xff_ffff).contains(&n)),
            },
            Rule::Collapse => {
                whole(value).is_some_and(|n| (-1..=3).contains(&n))
                    || value
                        .as_str()
                        .is_some_and(|s| COLLAPSE_LETTERS.contains(&s))
            }
            Rule::Object => value.is_object(),
        }
    }

    /// What the rule takes, in words (for error messages and the document).
    pub fn describe(&self) -> String {
        let quoted = |choices: &[&str]| {
            choices
                .iter()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match *self {
            Rule::OneOf(choices) => format!("one of {}", quoted(choices)),
            Rule::Bool => "true or false".into(),
            Rule::Number { min, max } if min == f64::MIN && max == f64::MAX => "a number".into(),
            Rule::Number { min, max } if max == f64::MAX => format!("a number from {min}"),
            Rule::Number { min, max } => format!("a number from {min} to {max}"),
            Rule::Positive => "a number above 0".into(),
            Rule::Integer { min, max } => format!("a whole number from {min} to {max}"),
            Rule::Bools(len) => format!("an array of {len} booleans, or one for all"),
            Rule::Numbers(len) => format!("an array of {len} numbers"),
            Rule::Color => "a colour, \"#rrggbb\" or an integer up to 0xffffff".into(),
            Rule::Collapse => format!(
                "a whole number from -1 to 3, or one of {}",
                quoted(COLLAPSE_LETTERS)
            ),
            Rule::Object => "an object".into(),
        }
    }

    fn schema(&self) -> Value {
        match *self {
            Rule::OneOf(choices) => json!({ "type": "string", "enum": choices }),
            Rule::Bool => json!({ "type": "boolean" }),
            Rule::Number { min, max } => {
                let mut schema = json!({ "type": "number" });
                if min > f64::MIN {
                    schema["minimum"] = json!(min);
                }
                if max < f64::MAX {
                    schema["maximum"] = json!(max);
                }
                schema
            }
            Rule::Positive => json!({ "type": "number", "exclusiveMinimum": 0 }),
            Rule::Integer { min, max } => {
                json!({ "type": "integer", "minimum": min, "maximum": max })
            }
            Rule::Bools(len) => json!({ "anyOf": [
                { "type": "array", "items": { "type": "boolean" }, "minItems": len, "maxItems": len },
                { "type": "boolean" },
            ]}),
            Rule::Numbers(len) => json!({
                "type": "array", "items": { "type": "number" }, "minItems": len, "maxItems": len,
            }),
            Rule::Color => json!({ "anyOf": [
                { "type": "string", "pattern": "^#[0-9a-fA-F]{6}$" },
                { "type": "integer", "minimum": 0, "maximum": 0xff_ffff },
            ]}),
            Rule::Collapse => json!({ "anyOf": [
                { "type": "integer", "minimum": -1, "maximum": 3 },
                { "type": "string", "enum": COLLAPSE_LETTERS },
            ]}),
            Rule::Object => json!({ "type": "object" }),
        }
    }
}

/// A JSON number that is a whole number (`3` or `3.0`).
fn whole(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|n| n.fract() == 0.0 && n.abs() < 9.0e15)
            .map(|n| n as i64)
    })
}

fn array_of(value: &Value, len: usize) -> Option<&Vec<Value>> {
    value.as_array().filter(|items| items.len() == len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    #[test]
    fn a_bad_value_is_refused_at_its_key_naming_what_it_takes() {
        let err = check(&config(json!({ "theme": "purple" }))).unwrap_err();
        assert_eq!(err.path, "$.theme");
        assert!(
            err.message.contains(r#""light", "dark", "browser""#),
            "{err}"
        );
        assert!(err.message.contains("\"purple\""), "{err}");
        for (key, value) in [
            ("grid", json!([true, false])),
            ("grid", json!("yes")),
            ("treeWidth", json!(-5)),
            ("treeWidth", json!("240")),
            ("edgeColor", json!("#12345")),
            ("zoom", json!(0)),
            ("ortho", json!("yes")),
            ("quaternion", json!([0, 0, 1])),
        ] {
            let err = check(&config(json!({ key: value }))).unwrap_err();
            assert_eq!(err.path, format!("$.{key}"), "{value}");
        }
    }

    #[test]
    fn defaults_ocp_vscode_configs_unknown_keys_and_nulls_pass() {
        check(&initial_defaults()).unwrap();
        let fixture: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/box.json")).unwrap();
        check(fixture["config"].as_object().unwrap()).unwrap();
        check(&config(
            json!({ "theme": null, "myOwnKey": [1, "x"], "edgeColor": 0x707070 }),
        ))
        .unwrap();
        // What ocp_vscode's show() takes and our Python bridge passes on as given.
        check(&config(
            json!({ "grid": true, "defaultColor": [232, 176, 36], "collapse": 2 }),
        ))
        .unwrap();
    }

    #[test]
    fn the_schema_names_every_rule_and_allows_other_keys() {
        let schema = json_schema();
        assert_eq!(schema["additionalProperties"], json!(true));
        let theme = &schema["properties"]["theme"]["anyOf"][0];
        assert_eq!(theme["enum"], json!(THEMES));
        assert_eq!(
            schema["properties"].as_object().unwrap().len(),
            SETTINGS.len()
        );
    }
}
