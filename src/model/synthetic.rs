//! Generated models of any size: a smooth UV sphere in ocp_vscode's message form with base64
//! buffers, the way ocp-tessellate sends real parts. Used by `ocp-notebook sample`, the tests and
//! the benchmarks (a 1.25 M-triangle sphere is about 40 MB on the wire, like the largest real
//! build123d model measured).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::json;

/// An ocp_vscode `data` message holding one sphere of radius 10 with at least `triangles`
/// triangles (rounded up to a full grid of rings and segments).
pub fn sphere_message(triangles: usize) -> Vec<u8> {
    let segments = (((triangles.max(8) / 2) as f64).sqrt().ceil() as usize).max(4);
    let rings = (triangles.max(8) / 2).div_ceil(segments).max(2);
    let mut vertices = Vec::with_capacity((rings + 1) * (segments + 1) * 3);
    let mut normals = Vec::with_capacity(vertices.capacity());
    for r in 0..=rings {
        let theta = std::f32::consts::PI * r as f32 / rings as f32;
        for s in 0..=segments {
            let phi = std::f32::consts::TAU * s as f32 / segments as f32;
            let n = [
                theta.sin() * phi.cos(),
                theta.sin() * phi.sin(),
                theta.cos(),
            ];
            normals.extend_from_slice(&n);
            vertices.extend(n.iter().map(|c| c * 10.0));
        }
    }
    let mut indices: Vec<i32> = Vec::with_capacity(rings * segments * 6);
    let row = segments as i32 + 1;
    for r in 0..rings as i32 {
        for s in 0..segments as i32 {
            let a = r * row + s;
            let b = a + row;
            indices.extend_from_slice(&[a, b, a + 1, a + 1, b, b + 1]);
        }
    }
    let triangle_count = indices.len() / 3;
    let shape = json!({
        "vertices": f32_buffer(&vertices),
        "normals": f32_buffer(&normals),
        "triangles": i32_buffer(&indices),
        "triangles_per_face": i32_buffer(&[triangle_count as i32]),
        "face_types": i32_buffer(&[3]),
        "edges": f32_buffer(&[]),
        "segments_per_edge": i32_buffer(&[]),
        "edge_types": i32_buffer(&[]),
        "obj_vertices": f32_buffer(&[]),
    });
    let bb = json!({"xmin": -10, "xmax": 10, "ymin": -10, "ymax": 10, "zmin": -10, "zmax": 10});
    json!({
        "type": "data",
        "data": {
            "instances": [shape],
            "shapes": {
                "version": 3, "name": "Group", "id": "/Group", "loc": null, "bb": bb,
                "normal_len": 0,
                "parts": [{
                    "id": "/Group/Sphere", "name": "Sphere", "type": "shapes", "subtype": "solid",
                    "state": [1, 1], "color": "#e8b024", "alpha": 1.0, "renderback": false,
                    "loc": null, "bb": bb, "shape": {"ref": 0},
                }],
            },
        },
        "config": {"resetCamera": "reset"},
        "count": 1,
    })
    .to_string()
    .into_bytes()
}

fn buffer(dtype: &str, len: usize, bytes: Vec<u8>) -> serde_json::Value {
    json!({"shape": [len], "dtype": dtype, "buffer": BASE64.encode(bytes), "codec": "b64"})
}

fn f32_buffer(values: &[f32]) -> serde_json::Value {
    buffer(
        "float32",
        values.len(),
        values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    )
}

fn i32_buffer(values: &[i32]) -> serde_json::Value {
    buffer(
        "int32",
        values.len(),
        values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    )
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;
    use crate::model::parse_upload;

    #[test]
    fn a_generated_sphere_is_a_valid_upload_of_the_asked_size() {
        let message = sphere_message(10_000);
        let upload = parse_upload(message, &crate::model::Limits::default()).unwrap();
        assert_eq!(upload.summary.instances, 1);
        assert_eq!(upload.summary.leaves, 1);
        let value: serde_json::Value = serde_json::from_slice(upload.geometry()).unwrap();
        let triangles = value["instances"][0]["triangles"]["shape"][0]
            .as_u64()
            .unwrap();
        assert!((30_000..33_000).contains(&triangles), "{triangles} indices");
    }
}
