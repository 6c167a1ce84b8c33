//! Animations in three-cad-viewer's track format, as ocp_vscode's `Animation` sends them: each
//! track moves one node of the tree (a part or a group, by its path) with an action and
//! key-framed values, played for `duration` seconds at `speed`, repeated or back and forth.
//!
//! | action | each value |
//! |---|---|
//! | `t` | a translation `[x, y, z]` from where the node is |
//! | `tx`, `ty`, `tz` | a distance along one axis |
//! | `rx`, `ry`, `rz` | an angle in degrees about one axis |
//! | `q` | a rotation quaternion `[x, y, z, w]` |
//!
//! Tracks are checked before any page sees them: paths against the model on screen, and each
//! value's kind, so a mistake is an error with its JSON path, not a silent page.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One node's motion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Track {
    pub path: String,
    pub action: String,
    pub times: Vec<f64>,
    pub values: Vec<Value>,
}

/// Tracks and how to play them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Animation {
    pub tracks: Vec<Track>,
    /// Seconds; the last key time when left out.
    #[serde(default)]
    pub duration: Option<f64>,
    #[serde(default = "one")]
    pub speed: f64,
    /// Start again at the end (else play back and forth).
    #[serde(default = "yes")]
    pub repeat: bool,
    /// Play at once (else the page waits for its play button).
    #[serde(default = "yes")]
    pub autoplay: bool,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

/// A track is ocp_vscode's tuple `[path, action, times, values]` or an object with those names.
impl<'de> Deserialize<'de> for Track {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Named {
            path: String,
            action: String,
            times: Vec<f64>,
            values: Vec<Value>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Tuple(String, String, Vec<f64>, Vec<Value>),
            Named(Named),
        }
        match Either::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom(
                "a track is [path, action, times, values] or {\"path\", \"action\", \"times\", \"values\"}",
            )
        })? {
            Either::Tuple(path, action, times, values) => Ok(Track { path, action, times, values }),
            Either::Named(n) => Ok(Track {
                path: n.path,
                action: n.action,
                times: n.times,
                values: n.values,
            }),
        }
    }
}

/// A problem with an animation: what, and where in it (a JSON path).
#[derive(Debug, Clone, PartialEq)]
pub struct AnimationError {
    pub message: String,
    pub path: String,
}

/// The actions a track may take (three-cad-viewer's).
pub const ACTIONS: [&str; 8] = ["t", "tx", "ty", "tz", "rx", "ry", "rz", "q"];

impl Default for Animation {
    fn default() -> Self {
        Animation::new()
    }
}

impl Animation {
    /// No tracks yet, played at speed 1, repeated, at once.
    ///
    /// ```
    /// use ocp_notebook::animation::Animation;
    ///
    /// let swing = Animation::new()
    ///     .track("/arm/upper", "rz", [0.0, 1.0, 2.0], [0.0, 45.0, 0.0])
    ///     .track("/arm/base", "t", [0.0, 2.0], [[0.0, 0.0, 0.0], [0.0, 0.0, 10.0]])
    ///     .speed(2.0);
    /// assert_eq!(swing.tracks.len(), 2);
    /// ```
    pub fn new() -> Self {
        Animation {
            tracks: Vec::new(),
            duration: None,
            speed: 1.0,
            repeat: true,
            autoplay: true,
        }
    }

    /// Adds a track moving the node at `path` (a part or a group) by `action`: a value per time.
    pub fn track<V: Serialize>(
        mut self,
        path: impl Into<String>,
        action: impl Into<String>,
        times: impl IntoIterator<Item = f64>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        self.tracks.push(Track {
            path: path.into(),
            action: action.into(),
            times: times.into_iter().collect(),
            values: values
                .into_iter()
                .map(|v| serde_json::to_value(v).unwrap_or(Value::Null))
                .collect(),
        });
        self
    }

    /// Seconds one run takes (else the last key time).
    pub fn duration(mut self, seconds: f64) -> Self {
        self.duration = Some(seconds);
        self
    }

    pub fn speed(mut self, speed: f64) -> Self {
        self.speed = speed;
        self
    }

    /// Start again at the end (`true`, the default) or play back and forth.
    pub fn repeat(mut self, repeat: bool) -> Self {
        self.repeat = repeat;
        self
    }

    /// Play at once (`true`, the default) or wait for the page's play button.
    pub fn autoplay(mut self, autoplay: bool) -> Self {
        self.autoplay = autoplay;
        self
    }

    /// Checks every track against `paths`, the nodes of the model on screen, and fills in the
    /// duration.
    pub fn checked(mut self, paths: &HashSet<&str>) -> Result<Animation, AnimationError> {
        let fail = |message: String, path: String| Err(AnimationError { message, path });
        if self.tracks.is_empty() {
            return fail(
                "an animation needs at least one track".into(),
                "$.tracks".into(),
            );
        }
        if !(self.speed.is_finite() && self.speed > 0.0) {
            return fail(
                format!("speed {} is not a positive number", self.speed),
                "$.speed".into(),
            );
        }
        for (i, track) in self.tracks.iter().enumerate() {
            let at = |field: &str| format!("$.tracks[{i}].{field}");
            if !paths.contains(track.path.as_str()) {
                let mut known: Vec<&str> = paths.iter().copied().collect();
                known.sort_unstable();
                known.truncate(12);
                return fail(
                    format!(
                        "the model has no node {:?}; it has {}",
                        track.path,
                        known.join(", ")
                    ),
                    at("path"),
                );
            }
            if !ACTIONS.contains(&track.action.as_str()) {
                return fail(
                    format!(
                        "unknown action {:?}; one of {}",
                        track.action,
                        ACTIONS.join(", ")
                    ),
                    at("action"),
                );
            }
            if track.times.is_empty() || track.times.len() != track.values.len() {
                return fail(
                    format!(
                        "{} times for {} values: each value needs its time",
                        track.times.len(),
                        track.values.len()
                    ),
                    at("values"),
                );
            }
            if let Some(k) = track.times.iter().position(|t| !t.is_finite() || *t < 0.0) {
                return fail(
                    "a time is a number of seconds from 0".into(),
                    at(&format!("times[{k}]")),
                );
            }
            if let Some(k) = track.times.windows(2).position(|w| w[1] <= w[0]) {
                return fail(
                    "times must increase".into(),
                    at(&format!("times[{}]", k + 1)),
                );
            }
            let size = match track.action.as_str() {
                "t" => Some(3),
                "q" => Some(4),
                _ => None,
            };
            for (k, value) in track.values.iter().enumerate() {
                let ok = match (size, value) {
                    (None, Value::Number(_)) => true,
                    (Some(n), Value::Array(items)) => {
                        items.len() == n
                            && items.iter().all(|v| v.as_f64().is_some_and(f64::is_finite))
                    }
                    _ => false,
                };
                if !ok {
                    let wanted = match size {
                        Some(n) => format!("an array of {n} numbers"),
                        None => "a number".into(),
                    };
                    return fail(
                        format!("a {:?} value is {wanted}", track.action),
                        at(&format!("values[{k}]")),
                    );
                }
            }
        }
        let last = self
            .tracks
            .iter()
            .filter_map(|t| t.times.last().copied())
            .fold(0.0, f64::max);
        match self.duration {
            Some(d) if !(d.is_finite() && d > 0.0) => {
                return fail(
                    format!("duration {d} is not a positive number of seconds"),
                    "$.duration".into(),
                )
            }
            None if last <= 0.0 => {
                return fail(
                    "the tracks end at 0 s: give a duration".into(),
                    "$.duration".into(),
                )
            }
            None => self.duration = Some(last),
            Some(_) => {}
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(body: Value) -> Result<Animation, AnimationError> {
        let paths: HashSet<&str> = ["/asm", "/asm/arm", "/asm/base"].into();
        serde_json::from_value::<Animation>(body)
            .unwrap()
            .checked(&paths)
    }

    #[test]
    fn both_track_forms_are_read_and_the_duration_is_the_last_key() {
        let animation = check(json!({"tracks": [
            ["/asm/arm", "rz", [0, 1, 2], [0, 45, 90]],
            {"path": "/asm/base", "action": "t", "times": [0, 3], "values": [[0, 0, 0], [0, 0, 10]]},
        ], "speed": 2})).unwrap();
        assert_eq!(animation.duration, Some(3.0));
        assert_eq!(
            (animation.speed, animation.repeat, animation.autoplay),
            (2.0, true, true)
        );
        assert_eq!(animation.tracks[1].action, "t");
    }

    #[test]
    fn mistakes_are_named_at_their_path() {
        let cases = [
            (
                json!({"tracks": [["/asm/leg", "rz", [0, 1], [0, 1]]]}),
                "$.tracks[0].path",
            ),
            (
                json!({"tracks": [["/asm/arm", "spin", [0, 1], [0, 1]]]}),
                "$.tracks[0].action",
            ),
            (
                json!({"tracks": [["/asm/arm", "rz", [0, 1], [0]]]}),
                "$.tracks[0].values",
            ),
            (
                json!({"tracks": [["/asm/arm", "rz", [0, 2, 1], [0, 1, 2]]]}),
                "$.tracks[0].times[2]",
            ),
            (
                json!({"tracks": [["/asm/arm", "t", [0, 1], [[0, 0, 0], [1, 2]]]]}),
                "$.tracks[0].values[1]",
            ),
            (
                json!({"tracks": [["/asm/arm", "q", [0, 1], [[0, 0, 0, 1], 5]]]}),
                "$.tracks[0].values[1]",
            ),
            (json!({"tracks": []}), "$.tracks"),
            (
                json!({"tracks": [["/asm/arm", "rz", [0, 1], [0, 1]]], "speed": 0}),
                "$.speed",
            ),
        ];
        for (body, path) in cases {
            let err = check(body.clone()).unwrap_err();
            assert_eq!(err.path, path, "{body}: {}", err.message);
        }
        let err = check(json!({"tracks": [["/asm/leg", "rz", [0, 1], [0, 1]]]})).unwrap_err();
        assert!(
            err.message.contains("/asm/arm"),
            "the known paths are listed: {}",
            err.message
        );
    }
}
