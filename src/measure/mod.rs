//! The answers to three-cad-viewer's measurement tools, computed from a stored mesh.
//!
//! In its measure mode the renderer names the picked faces, edges, vertices or solids
//! (`selectedShapeIDs`, see [`Pick`]) and waits for a `{"subtype": "tool_response", ...}` it can
//! draw. ocp_vscode answers from the CAD objects in a Python process; this module answers from
//! the tessellation every model already carries, so every viewer measures, with no kernel:
//!
//! - distance: the minimum distance between two picks and the two points where it is reached;
//! - properties: a face's area and type (with the radius of a cylinder or sphere), an edge's
//!   length (with a circle's radius), a vertex's position, a solid's volume and area, and for
//!   all of them the centre and the bounding box;
//! - angle: between two planar faces, two straight edges, or one of each.
//!
//! A mesh vertex lies on the exact surface, so positions, planar areas, straight lengths and
//! fitted radii agree with the CAD kernel's exact values to float precision; curved areas and
//! lengths are short by the chord error, within the tessellation tolerance.
//!
//! - [`pick`]: the renderer's names for picks.
//! - `mesh`: reads only the picked parts of a model, placed in the world.
//! - `geometry`, `nearest`, `fit`: closest points, the tree walk for minimum distances, radii.

mod fit;
mod geometry;
mod mesh;
mod nearest;
pub mod pick;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::ids::PartHash;
use crate::model::types::{CURVE_TYPES, SURFACE_TYPES};

use geometry::{add, cross, distance, dot, norm, scale, sub, unit, Simplex, P3};
use mesh::Entity;
pub use pick::{Pick, Topology};

/// The renderer's three measurement tools, by the names it gives them (`activeTool`); requests
/// may name them the way people do too: `distance`, `properties`, `angle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tool {
    #[serde(rename = "DistanceMeasurement", alias = "distance")]
    Distance,
    #[serde(rename = "PropertiesMeasurement", alias = "properties")]
    Properties,
    #[serde(rename = "AngleMeasurement", alias = "angle")]
    Angle,
}

impl Tool {
    /// Every name a request may give a tool: the renderer's (what answers carry), then the
    /// short ones.
    pub const NAMES: [&'static str; 6] = [
        "DistanceMeasurement",
        "PropertiesMeasurement",
        "AngleMeasurement",
        "distance",
        "properties",
        "angle",
    ];

    /// How many picks the tool measures.
    pub fn picks(self) -> usize {
        match self {
            Tool::Properties => 1,
            Tool::Distance | Tool::Angle => 2,
        }
    }

    /// What people call it: "distance", "properties", "angle".
    pub fn short_name(self) -> &'static str {
        match self {
            Tool::Distance => "distance",
            Tool::Properties => "properties",
            Tool::Angle => "angle",
        }
    }

    /// The renderer's name.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Distance => "DistanceMeasurement",
            Tool::Properties => "PropertiesMeasurement",
            Tool::Angle => "AngleMeasurement",
        }
    }
}

/// Why a measurement has no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MeasureError {
    #[error("the model cannot be read: {0}")]
    Model(String),
    /// The pick at `index` names nothing in the model, or nothing the tool can measure.
    #[error("{message}")]
    Pick { index: usize, message: String },
    #[error("{0}")]
    NotMeasurable(String),
}

/// Answers `tool` for `picks` on a model's `geometry` (a tree or the instanced form, as
/// [`Body`](crate::model::skeleton::Body) finds it in any body; or a stored tree form, whose
/// parts `parts` gives by hash: only the picked ones are read) with the `tool_response` the
/// renderer draws: always `distance`, `point1`, `point2`
/// / `center` and the values the tool's panel shows, plus `info` (text) and `center_info` (the
/// same as HTML for the renderer's info box).
///
/// ```
/// use ocp_notebook::measure::{measure, Pick, Tool};
/// use ocp_notebook::model::{builder::Mesh, skeleton::Body};
///
/// let json = Mesh::cuboid(10.0, 20.0, 30.0).into_message("brick").to_json();
/// let geometry = Body::read(json.as_bytes()).unwrap().geometry;
/// let faces = ["/brick/brick/faces/faces_0", "/brick/brick/faces/faces_1"].map(|id| Pick::parse(id).unwrap());
/// let answer = measure(geometry, &|_| None, Tool::Distance, &faces).unwrap();
/// assert_eq!(answer["distance"], 10.0); // the two faces normal to x
/// ```
pub fn measure<'a>(
    geometry: &'a str,
    parts: &dyn Fn(&PartHash) -> Option<&'a str>,
    tool: Tool,
    picks: &[Pick],
) -> Result<Value, MeasureError> {
    if picks.len() != tool.picks() {
        let picked = match picks.len() {
            1 => "1 pick".to_string(),
            n => format!("{n} picks"),
        };
        return Err(MeasureError::NotMeasurable(format!(
            "the {} tool measures {}, not {picked}",
            tool.short_name(),
            if tool.picks() == 1 {
                "1 pick"
            } else {
                "2 picks"
            },
        )));
    }
    let entities = mesh::entities(geometry, parts, picks, tool != Tool::Distance)?;
    let answer = match tool {
        Tool::Distance => distance_between(&entities[0], &entities[1])?,
        Tool::Properties => properties(&entities[0])?,
        Tool::Angle => angle_between(&entities[0], &entities[1])
            .map_err(|(index, message)| MeasureError::Pick { index, message })?,
    };
    Ok(finish(tool, picks, answer, "mesh"))
}

/// The `tool_response` the renderer draws, from a measurement's values: the envelope, the picks,
/// where the values come from (`source`: "mesh" or "exact"), and `center_info`, the `info` text as
/// escaped HTML for the renderer's info box. The one place both sources' answers are finished.
pub fn finish(tool: Tool, picks: &[Pick], mut values: Map<String, Value>, source: &str) -> Value {
    let info = values
        .remove("info")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    values.insert("type".into(), json!("backend_response"));
    values.insert("subtype".into(), json!("tool_response"));
    values.insert("tool_type".into(), json!(tool.name()));
    values.insert("source".into(), json!(source));
    values.insert("center_info".into(), json!(info_html(&info)));
    values.insert("info".into(), json!(info));
    values.insert(
        "picks".into(),
        json!(picks.iter().map(Pick::id).collect::<Vec<_>>()),
    );
    Value::Object(values)
}

/// What an exact answer (a kernel's) may hold, checked key by key: the values the renderer and
/// the bridges read, each of its type; anything else is dropped. `Err` names the first bad key
/// (a JSON path) and why. Required: `distance`, `point1`, `point2` (distance); `angle`, `point1`,
/// `point2` (angle); `center` (properties).
pub fn exact_values(tool: Tool, answer: &Value) -> Result<Map<String, Value>, (String, String)> {
    const NUMBERS: [&str; 8] = [
        "distance", "angle", "area", "length", "volume", "radius", "radius2", "width",
    ];
    const POINTS: [&str; 6] = [
        "point1",
        "point2",
        "center",
        "vertex_coords",
        "normal",
        "circle_center",
    ];
    let object = answer
        .as_object()
        .ok_or_else(|| ("$".to_string(), "an answer is a JSON object".to_string()))?;
    let finite = |v: &Value| v.as_f64().is_some_and(f64::is_finite);
    let point = |v: &Value| {
        v.as_array()
            .is_some_and(|a| a.len() == 3 && a.iter().all(finite))
    };
    let mut out = Map::new();
    for (key, value) in object {
        let at = format!("$.{key}");
        let ok = if NUMBERS.contains(&key.as_str()) {
            finite(value)
        } else if POINTS.contains(&key.as_str()) {
            point(value)
        } else if key == "geom_type" {
            value
                .as_str()
                .is_some_and(|t| t.len() <= 40 && t.chars().all(|c| c.is_ascii_alphanumeric()))
        } else if key == "info" {
            value.as_str().is_some_and(|t| t.len() <= 4000)
        } else if key == "bb" {
            value.as_object().is_some_and(|bb| {
                ["min", "max", "size", "center"]
                    .iter()
                    .all(|k| bb.get(*k).is_some_and(point))
            })
        } else {
            continue;
        };
        if !ok {
            return Err((at, format!("{key} is not what the renderer takes")));
        }
        out.insert(key.clone(), value.clone());
    }
    let required: &[&str] = match tool {
        Tool::Distance => &["distance", "point1", "point2"],
        Tool::Angle => &["angle", "point1", "point2"],
        Tool::Properties => &["center"],
    };
    if let Some(missing) = required.iter().find(|k| !out.contains_key(**k)) {
        return Err((
            "$".into(),
            format!("a {} answer needs {missing}", tool.name()),
        ));
    }
    Ok(out)
}

fn distance_between(a: &Entity, b: &Entity) -> Result<Map<String, Value>, MeasureError> {
    let found = nearest::nearest(&a.simplices, &b.simplices)
        .ok_or_else(|| MeasureError::NotMeasurable("a pick has no geometry".into()))?;
    let mut out = Map::new();
    out.insert("distance".into(), json!(round(found.distance)));
    out.insert("point1".into(), point(found.on_first));
    out.insert("point2".into(), point(found.on_second));
    out.insert(
        "info".into(),
        json!(format!(
            "Distance {} from {} to {}",
            number(found.distance),
            a.pick,
            b.pick
        )),
    );
    Ok(out)
}

fn type_name(entity: &Entity) -> Option<&'static str> {
    let names: &[&str] = match entity.pick.kind {
        Topology::Face => &SURFACE_TYPES,
        Topology::Edge => &CURVE_TYPES,
        _ => return None,
    };
    names.get(usize::try_from(entity.geom_type?).ok()?).copied()
}

fn properties(entity: &Entity) -> Result<Map<String, Value>, MeasureError> {
    let mut out = Map::new();
    let mut lines = vec![format!("{}", entity.pick)];
    let kind = entity.pick.kind;
    if let Some(name) = type_name(entity) {
        out.insert("geom_type".into(), json!(name));
        lines.push(format!("type {name}"));
    }
    let center = match kind {
        Topology::Vertex => {
            let at = entity.simplices.get(0).corners().next().expect("a point");
            out.insert("vertex_coords".into(), point(at));
            at
        }
        Topology::Edge => {
            let length: f64 = segments(entity).map(|(a, b)| distance(a, b)).sum();
            out.insert("length".into(), json!(round(length)));
            lines.push(format!("length {}", number(length)));
            if entity.geom_type == Some(1) {
                let points = polyline(entity);
                if let Some((centre, radius)) = fit::circle(&points) {
                    out.insert("radius".into(), json!(round(radius)));
                    out.insert("circle_center".into(), point(centre));
                    lines.push(format!("radius {}", number(radius)));
                }
            }
            along(entity, length / 2.0)
        }
        Topology::Face | Topology::Solid => {
            let (area, centroid) = surface(entity);
            out.insert("area".into(), json!(round(area)));
            lines.push(format!("area {}", number(area)));
            if kind == Topology::Solid {
                let (volume, center) = volume(entity);
                out.insert("volume".into(), json!(round(volume)));
                lines.push(format!("volume {}", number(volume)));
                center.unwrap_or(centroid)
            } else {
                let radius = match entity.geom_type {
                    Some(1) => fit::cylinder(&entity.vertices, &entity.normals).map(|(_, r)| r),
                    Some(3) => fit::sphere(&entity.vertices).map(|(_, r)| r),
                    _ => None,
                };
                if let Some(radius) = radius {
                    out.insert("radius".into(), json!(round(radius)));
                    lines.push(format!("radius {}", number(radius)));
                }
                if entity.geom_type == Some(0) {
                    if let Some(normal) = plane_normal(entity) {
                        out.insert("normal".into(), point(normal));
                    }
                }
                centroid
            }
        }
    };
    out.insert("center".into(), point(center));
    lines.push(format!("center {}", triple(center)));
    if kind != Topology::Vertex {
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for p in entity.simplices.iter().flat_map(|s| s.corners()) {
            for k in 0..3 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        out.insert(
            "bb".into(),
            json!({
                "min": point(lo),
                "max": point(hi),
                "size": point(sub(hi, lo)),
                "center": point(scale(add(lo, hi), 0.5)),
            }),
        );
        lines.push(format!("size {}", triple(sub(hi, lo))));
    }
    out.insert("info".into(), json!(lines.join("\n")));
    Ok(out)
}

/// The angle between two picks; a pick that has no direction is named by its index.
fn angle_between(a: &Entity, b: &Entity) -> Result<Map<String, Value>, (usize, String)> {
    let (da, pa) = direction(a).map_err(|err| (0, err))?;
    let (db, pb) = direction(b).map_err(|err| (1, err))?;
    let cos = dot(da, db).clamp(-1.0, 1.0);
    let degrees = match (a.pick.kind, b.pick.kind) {
        // Between face normals: 90 for neighbouring faces of a box, 180 for opposite ones.
        (Topology::Face, Topology::Face) => cos.acos().to_degrees(),
        // Lines have no sense of direction: the acute angle.
        (Topology::Edge, Topology::Edge) => cos.abs().acos().to_degrees(),
        // A line against a plane: 90 less the angle to the plane's normal.
        _ => 90.0 - cos.abs().acos().to_degrees(),
    };
    let mut out = Map::new();
    out.insert("angle".into(), json!(round(degrees)));
    out.insert("point1".into(), point(pa));
    out.insert("point2".into(), point(pb));
    out.insert(
        "info".into(),
        json!(format!(
            "Angle {}° between {} and {}",
            number(degrees),
            a.pick,
            b.pick
        )),
    );
    Ok(out)
}

/// A planar face's normal or a straight edge's direction, with the point the panel points at.
fn direction(entity: &Entity) -> Result<(P3, P3), String> {
    let not = |what: &str| {
        format!(
            "{} is not {what}: angles are between planar faces and straight edges",
            entity.pick
        )
    };
    match entity.pick.kind {
        Topology::Face => {
            let normal = plane_normal(entity).ok_or_else(|| not("planar"))?;
            Ok((normal, surface(entity).1))
        }
        Topology::Edge => {
            let points = polyline(entity);
            let (first, last) = (points[0], points[points.len() - 1]);
            let dir = unit(sub(last, first)).ok_or_else(|| not("straight"))?;
            let straight = points
                .iter()
                .all(|p| norm(cross(sub(*p, first), dir)) <= 1e-4 * distance(first, last));
            if !straight {
                return Err(not("straight"));
            }
            Ok((dir, scale(add(first, last), 0.5)))
        }
        _ => Err(not("a face or an edge")),
    }
}

/// The normal of a planar face (from its mesh normals, which the tessellator points outwards),
/// `None` when the face is not flat within a tenth of a degree.
fn plane_normal(entity: &Entity) -> Option<P3> {
    let sum = if entity.normals.is_empty() {
        entity.simplices.iter().fold([0.0; 3], |acc, s| match s {
            Simplex::Triangle(a, b, c) => add(acc, cross(sub(b, a), sub(c, a))),
            _ => acc,
        })
    } else {
        entity.normals.iter().fold([0.0; 3], |acc, n| add(acc, *n))
    };
    let normal = unit(sum)?;
    let flat = entity.simplices.iter().all(|s| match s {
        Simplex::Triangle(a, b, c) => unit(cross(sub(b, a), sub(c, a)))
            .is_none_or(|n| dot(n, normal).abs() > 0.1f64.to_radians().cos()),
        _ => true,
    });
    flat.then_some(normal)
}

/// Area and area centroid of the triangles.
fn surface(entity: &Entity) -> (f64, P3) {
    let mut area = 0.0;
    let mut moment = [0.0; 3];
    for s in entity.simplices.iter() {
        if let Simplex::Triangle(a, b, c) = s {
            let t = norm(cross(sub(b, a), sub(c, a))) / 2.0;
            area += t;
            moment = add(moment, scale(add(add(a, b), c), t / 3.0));
        }
    }
    let centroid = if area > 0.0 {
        scale(moment, 1.0 / area)
    } else {
        fit::mean(
            &entity
                .simplices
                .iter()
                .flat_map(|s| s.corners())
                .collect::<Vec<_>>(),
        )
    };
    (area, centroid)
}

/// Enclosed volume (divergence theorem over the triangles) and its centroid.
fn volume(entity: &Entity) -> (f64, Option<P3>) {
    let mut volume = 0.0;
    let mut moment = [0.0; 3];
    for s in entity.simplices.iter() {
        if let Simplex::Triangle(a, b, c) = s {
            let v = dot(a, cross(b, c)) / 6.0;
            volume += v;
            moment = add(moment, scale(add(add(a, b), c), v / 4.0));
        }
    }
    let center = (volume.abs() > 0.0).then(|| scale(moment, 1.0 / volume));
    (volume.abs(), center)
}

fn segments(entity: &Entity) -> impl Iterator<Item = (P3, P3)> + '_ {
    entity.simplices.iter().filter_map(|s| match s {
        Simplex::Segment(a, b) => Some((a, b)),
        _ => None,
    })
}

/// An edge's points in order (its segments joined).
fn polyline(entity: &Entity) -> Vec<P3> {
    let mut points = Vec::new();
    for (a, b) in segments(entity) {
        if points.last().is_none_or(|last| distance(*last, a) > 0.0) {
            points.push(a);
        }
        points.push(b);
    }
    points
}

/// The point `length` along an edge.
fn along(entity: &Entity, mut length: f64) -> P3 {
    let mut last = [0.0; 3];
    for (a, b) in segments(entity) {
        let d = distance(a, b);
        if length <= d && d > 0.0 {
            return geometry::lerp(a, b, length / d);
        }
        length -= d;
        last = b;
    }
    last
}

/// Values to 9 significant digits (meshes are float32, the rest is noise), and below a
/// billionth to 0 (what a rotation leaves of a zero coordinate).
fn round(x: f64) -> f64 {
    if x.abs() < 1e-9 || !x.is_finite() {
        return if x.is_finite() { 0.0 } else { x };
    }
    format!("{x:.8e}").parse().unwrap_or(x)
}

fn point(p: P3) -> Value {
    json!(p.map(round))
}

/// A value for people: 4 decimals, no trailing zeros.
fn number(x: f64) -> String {
    let text = format!("{x:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

fn triple(p: P3) -> String {
    format!("({}, {}, {})", number(p[0]), number(p[1]), number(p[2]))
}

/// The info lines as HTML for the renderer's info box (which sets it as `innerHTML`): escaped,
/// since part names come from users, one line each.
fn info_html(info: &str) -> String {
    crate::html::escape(info).replace('\n', "<br>")
}

#[cfg(all(test, feature = "server"))]
mod one_reading;
#[cfg(test)]
mod tests;
