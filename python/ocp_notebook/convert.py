"""Objects to the model format (three-cad-viewer's shapes tree in ocp_vscode's message).

- three-cad-viewer dicts and ocp_vscode messages go as they are;
- plain meshes (`Mesh`, a `(vertices, triangles)` pair, a dict with both, or anything with
  `.vertices` and `.faces` such as a trimesh) become parts with base64 buffers;
- build123d and CadQuery objects are tessellated by ocp-tessellate as ocp_vscode does it
  (`to_ocpgroup`, then `tessellate_group`), and sent with base64 buffers.
"""

import base64
import math
import sys
from array import array

# Tessellation quality, ocp_vscode's defaults.
DEFAULT_DEVIATION = 0.1
DEFAULT_ANGULAR_TOLERANCE = 0.2


class Mesh:
    """A triangle mesh: `vertices` ([x, y, z] rows or a flat list) and `triangles` ([a, b, c]
    rows or a flat list); lists or numpy arrays."""

    def __init__(self, vertices, triangles, name="mesh", color=None, alpha=1.0):
        self.vertices = _flat_floats(vertices)
        self.triangles = _flat_ints(triangles)
        self.name, self.color, self.alpha = name, color, alpha
        if len(self.vertices) % 3 or len(self.triangles) % 3:
            raise ValueError("vertices and triangles must come in threes")
        count = len(self.vertices) // 3
        bad = next((i for i in self.triangles if not 0 <= i < count), None)
        if bad is not None:
            raise ValueError(f"triangle index {bad} out of range ({count} vertices)")


def is_message(obj):
    return isinstance(obj, dict) and obj.get("type") == "data" and "data" in obj


def is_tree(obj):
    return isinstance(obj, dict) and ("shapes" in obj or "parts" in obj)


def is_mesh(obj):
    """Whether `obj` is a plain mesh in any accepted form (which `as_mesh` converts)."""
    return (
        isinstance(obj, Mesh)
        or (isinstance(obj, dict) and "vertices" in obj and "triangles" in obj)
        or (isinstance(obj, tuple) and len(obj) == 2 and not hasattr(obj[0], "wrapped"))
        or _has_mesh_data(obj)
    )


def as_mesh(obj, name=None, color=None, alpha=None):
    """`obj` as a `Mesh` if it is a plain mesh in any accepted form, else None."""
    if not is_mesh(obj):
        return None
    if isinstance(obj, Mesh):
        mesh = obj
    elif isinstance(obj, dict):
        mesh = Mesh(obj["vertices"], obj["triangles"])
    elif isinstance(obj, tuple):
        mesh = Mesh(*obj)
    else:
        mesh = Mesh(obj.vertices, obj.faces)
    if name is not None:
        mesh.name = name
    if color is not None:
        mesh.color = color
    if alpha is not None:
        mesh.alpha = alpha
    return mesh


def _has_mesh_data(obj):
    """A trimesh-like object: `.vertices` and `.faces` are data. (CadQuery's Workplane and
    build123d's shapes have methods of those names.)"""
    vertices = getattr(obj, "vertices", None)
    faces = getattr(obj, "faces", None)
    return vertices is not None and faces is not None and not callable(vertices) and not callable(faces)


def per_object(objs, **lists):
    """Each of `lists` (names, colors, alphas) as one entry per object: None (or empty) means
    all defaults; a list of another length is an error, never cut short to fit."""
    made = []
    for what, values in lists.items():
        values = list(values or [None] * len(objs))
        if len(values) != len(objs):
            raise ValueError(
                f"{what} has {len(values)} entries for {len(objs)} objects: give one per object "
                f"(None where the default will do)"
            )
        made.append(values)
    return made


def to_message(objs, names=None, colors=None, alphas=None, config=None, shapes=None):
    """One ocp_vscode message (a dict) showing every object of `objs`. `shapes`, a list, receives
    ocp-tessellate's map from tree paths to the CAD shapes (what picks are mapped back with)."""
    config = dict(config or {})
    if len(objs) == 1 and is_message(objs[0]):
        message = dict(objs[0])
        message["config"] = {**message.get("config", {}), **config}
        return message
    if len(objs) == 1 and is_tree(objs[0]):
        return {"type": "data", "data": objs[0], "config": config, "count": 1}
    if any(is_message(obj) or is_tree(obj) for obj in objs):
        raise ValueError(
            "a three-cad-viewer dict or ocp_vscode message is shown alone; combine CAD objects "
            "and meshes instead, or build one dict holding everything"
        )
    names, colors, alphas = per_object(objs, names=names, colors=colors, alphas=alphas)
    meshes, cad = [], []
    for index, obj in enumerate(objs):
        mesh = as_mesh(obj, names[index], colors[index], alphas[index])
        if mesh is not None:
            meshes.append(mesh)
        else:
            cad.append(index)
    if cad:
        data, mapping = tessellate(
            [objs[i] for i in cad], [names[i] for i in cad], [colors[i] for i in cad],
            [alphas[i] for i in cad], config,
        )
        if shapes is not None:
            shapes.append(mapping)
    else:
        data = {"instances": [], "shapes": {"version": 3, "id": "/Group", "name": "Group", "parts": [], "loc": None}}
    root = data["shapes"]
    taken = {part["name"] for part in root["parts"]}
    for mesh in meshes:
        root["parts"].append(_mesh_part(mesh, root["id"], _unique(mesh.name, taken)))
    if objs and not root.get("parts"):
        kinds = ", ".join(sorted({type(obj).__name__ for obj in objs}))
        raise TypeError(
            f"nothing in {kinds} can be shown: show() takes build123d and CadQuery objects, "
            "meshes (Mesh, a (vertices, triangles) pair, anything with .vertices and .faces), "
            "three-cad-viewer dicts and ocp_vscode messages"
        )
    root["bb"] = _union([root.get("bb")] + [_bounds(m.vertices) for m in meshes])
    root.setdefault("normal_len", 0)
    return {"type": "data", "data": data, "config": config, "count": len(objs)}


def top_level_names(message, objs):
    """The name each of `objs` has at the top of the message's tree, as the viewer's tree shows
    it. `to_message` puts CAD objects first, in order, then meshes; ocp-tessellate makes one
    object alone (an assembly, a compound) the root itself, else wraps them in a `Group`."""
    data = message["data"]
    root = data.get("shapes", data)
    if len(objs) == 1 and (is_message(objs[0]) or is_tree(objs[0])):
        return [root.get("name")]
    children = [part.get("name") for part in root.get("parts", [])]
    meshes = [is_mesh(obj) for obj in objs]
    cad_count = meshes.count(False)
    if cad_count == 1 and root.get("name") != "Group":
        cad_names = [root.get("name")]
    else:
        cad_names = children[:cad_count]
    mesh_names = children[len(children) - meshes.count(True):] if any(meshes) else []
    cad_iter, mesh_iter = iter(cad_names), iter(mesh_names)
    return [next(mesh_iter if is_mesh else cad_iter, None) for is_mesh in meshes]


def tessellate(objs, names, colors, alphas, config):
    """build123d / CadQuery objects through ocp-tessellate, as ocp_vscode tessellates them; with
    the map from tree paths to their CAD shapes."""
    try:
        from ocp_tessellate.convert import tessellate_group, to_ocpgroup
        from ocp_tessellate.utils import numpy_to_buffer_json
    except ImportError:
        kinds = ", ".join(sorted({type(o).__name__ for o in objs}))
        raise TypeError(
            f"cannot show {kinds}: CAD objects need ocp-tessellate (pip install ocp-tessellate); "
            "meshes, three-cad-viewer dicts and ocp_vscode messages need nothing"
        ) from None
    group, instances = to_ocpgroup(*objs, names=names, colors=colors, alphas=alphas)
    params = {
        "deviation": config.get("deviation", DEFAULT_DEVIATION),
        "angular_tolerance": config.get("angular_tolerance", DEFAULT_ANGULAR_TOLERANCE),
        "render_edges": True,
        "render_normals": False,
    }
    instances, shapes, mapping = tessellate_group(group, instances, params)
    return numpy_to_buffer_json({"instances": instances, "shapes": shapes}), mapping


def _mesh_part(mesh, parent_id, name):
    """A leaf with its nine arrays: per-vertex normals, one face, no edges."""
    normals = _vertex_normals(mesh.vertices, mesh.triangles)
    return {
        "id": f"{parent_id}/{name}",
        "type": "shapes",
        "subtype": "solid",
        "name": name,
        "state": [1, 1],
        "color": _color(mesh.color),
        "alpha": 1.0 if mesh.alpha is None else float(mesh.alpha),
        "loc": None,
        "shape": {
            "vertices": _buffer("float32", mesh.vertices),
            "normals": _buffer("float32", normals),
            "triangles": _buffer("uint32", mesh.triangles),
            "edges": _buffer("float32", []),
            "obj_vertices": _buffer("float32", []),
            "face_types": _buffer("uint32", [0]),
            "edge_types": _buffer("uint32", []),
            "triangles_per_face": _buffer("uint32", [len(mesh.triangles) // 3]),
            "segments_per_edge": _buffer("uint32", []),
        },
    }


def _buffer(dtype, values):
    """A base64 little-endian buffer as the format writes one."""
    data = array("f" if dtype == "float32" else "I", values)
    if sys.byteorder != "little":
        data.byteswap()
    return {
        "shape": [len(data)],
        "dtype": dtype,
        "buffer": base64.b64encode(data.tobytes()).decode("ascii"),
        "codec": "b64",
    }


def _vertex_normals(vertices, triangles):
    """Area-weighted vertex normals (numpy when there, plain Python otherwise)."""
    try:
        import numpy as np
    except ImportError:
        np = None
    if np is not None:
        v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
        t = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
        n = np.zeros_like(v)
        face = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])
        for corner in range(3):
            np.add.at(n, t[:, corner], face)
        length = np.linalg.norm(n, axis=1, keepdims=True)
        n = np.divide(n, length, out=np.zeros_like(n), where=length > 0)
        return n.astype(np.float32).ravel().tolist()
    n = [0.0] * len(vertices)
    for i in range(0, len(triangles), 3):
        a, b, c = (3 * triangles[i + k] for k in range(3))
        u = [vertices[b + k] - vertices[a + k] for k in range(3)]
        w = [vertices[c + k] - vertices[a + k] for k in range(3)]
        face = [u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]]
        for corner in (a, b, c):
            for k in range(3):
                n[corner + k] += face[k]
    for i in range(0, len(n), 3):
        length = math.sqrt(n[i] ** 2 + n[i + 1] ** 2 + n[i + 2] ** 2) or 1.0
        n[i:i + 3] = [x / length for x in n[i:i + 3]]
    return n


def _bounds(vertices):
    xs, ys, zs = vertices[0::3], vertices[1::3], vertices[2::3]
    if not xs:
        return None
    return {"xmin": min(xs), "xmax": max(xs), "ymin": min(ys), "ymax": max(ys), "zmin": min(zs), "zmax": max(zs)}


def _union(boxes):
    boxes = [b for b in boxes if b]
    if not boxes:
        return {"xmin": -1e-6, "xmax": 1e-6, "ymin": -1e-6, "ymax": 1e-6, "zmin": -1e-6, "zmax": 1e-6}
    return {
        key: (min if key.endswith("min") else max)(b[key] for b in boxes)
        for key in ("xmin", "xmax", "ymin", "ymax", "zmin", "zmax")
    }


def _unique(name, taken):
    """`name` made unique among `taken` (and added to it): `leg`, `leg_2`, `leg_3`, ...; "/"
    cannot be in a name (ids are paths) and an empty one is `part`, as in the Rust bridge."""
    base = str(name).replace("/", "_") if name else "part"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


def _color(color):
    """A colour as the viewer wants it, `#rrggbb`, from that, an RGB tuple (0-255, or 0-1
    floats) or, with ocp-tessellate installed, a CSS name. Default: ocp_vscode's gold."""
    if color is None:
        return "#e8b024"
    if isinstance(color, (tuple, list)) and len(color) >= 3:
        scale = 255 if all(isinstance(c, float) and c <= 1 for c in color[:3]) else 1
        return "#" + "".join(f"{int(round(c * scale)):02x}" for c in color[:3])
    if isinstance(color, str) and len(color) == 7 and color.startswith("#"):
        return color
    try:
        from ocp_tessellate.utils import Color
    except ImportError:
        raise ValueError(f"colour {color!r}: give '#rrggbb' or an RGB tuple (names need ocp-tessellate)") from None
    return Color(color).web_color


def _flat_floats(values):
    return [float(x) for x in _flatten(values)]


def _flat_ints(values):
    return [int(x) for x in _flatten(values)]


def _flatten(values):
    """Rows or a flat sequence (lists, tuples or a numpy array) as one flat list."""
    if hasattr(values, "ravel"):
        return values.ravel().tolist()
    flat = []
    for row in values:
        if isinstance(row, (list, tuple)) or hasattr(row, "tolist"):
            flat.extend(row)
        else:
            flat.append(row)
    return flat
