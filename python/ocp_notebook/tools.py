"""The viewer's tools from code: what the user picked in the page, the server's measurements,
the CAD objects behind the picks, and animations.

The page's measure tools (the toolbar's distance, properties and angle buttons) let a person
click faces, edges and vertices; the server reads what the page reported (`selection()`) and
measures it from the stored mesh (`measure()`). A pick names a part by its path in the tree and
a face, edge or vertex by its index, in the order of build123d's and CadQuery's `faces()`,
`edges()` and `vertices()`, so `picked_objects()` gives the objects themselves back.
"""

from collections import namedtuple

#: One thing the user picked: `path` of the part in the viewer's tree, `kind` ("face", "edge",
#: "vertex" or "solid"), `index` among the part's faces, edges or vertices (None for a solid), and
#: `id`, the renderer's name for it.
Pick = namedtuple("Pick", "path kind index id")

def picks_of(answer):
    """The `Pick`s of a `GET /api/viewer/<id>/selection` answer (the server reads the names)."""
    return [Pick(p["path"], p["kind"], p["index"], p["id"]) for p in answer.get("picks", [])]


def track(entry):
    """One animation track as the server takes it: ocp_vscode's `(path, action, times, values)`
    or a dict with those keys; numpy arrays become lists."""
    if isinstance(entry, dict):
        entry = [entry[k] for k in ("path", "action", "times", "values")]
    path, action, times, values = entry
    return [path, action, _plain(times), _plain(values)]


def _plain(value):
    """Lists of numbers from numpy arrays, tuples and lists, at any depth."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class ShapeIndex:
    """The CAD shapes behind a shown model, by their paths in the viewer's tree (what
    ocp-tessellate's `tessellate_group` hands back), placed where the viewer shows them."""

    def __init__(self, mapping=None, library=None):
        self.shapes = {}
        self.library = library
        if mapping:
            self._walk(mapping)

    def _walk(self, node):
        shape = node.get("shape")
        if isinstance(shape, dict) and shape.get("obj") is not None:
            obj = shape["obj"]
            loc = node.get("loc")
            self.shapes[node["id"]] = obj.Moved(loc) if loc is not None else obj
        for part in node.get("parts", []) or []:
            self._walk(part)

    def object(self, pick):
        """The build123d or CadQuery object (as the shown objects were) for `pick`; None for a
        part that was not a CAD object (a mesh, a dict)."""
        shape = self.shapes.get(pick.path)
        if shape is None:
            return None
        if pick.kind != "solid":
            from ocp_tessellate.tessellator import get_edges, get_faces, get_vertices

            explore = {"face": get_faces, "edge": get_edges, "vertex": get_vertices}[pick.kind]
            found = list(explore(shape))
            if not 0 <= pick.index < len(found):
                from .errors import OcpNotebookError

                plural = {"face": "faces", "edge": "edges", "vertex": "vertices"}[pick.kind]
                raise OcpNotebookError(
                    f"{pick.kind} {pick.index} of {pick.path}: the part has {len(found)} {plural}"
                )
            shape = found[pick.index]
        return self._wrap(shape)

    def _wrap(self, shape):
        from ocp_tessellate.ocp_utils import downcast

        shape = downcast(shape)
        if self.library == "build123d":
            import build123d

            for kind in ("Vertex", "Edge", "Face", "Solid", "Compound"):
                cls = getattr(build123d, kind)
                if isinstance(shape, _topods(kind)):
                    return cls(shape)
        if self.library == "cadquery":
            import cadquery

            return cadquery.Shape.cast(shape)
        return shape


def _topods(kind):
    from OCP import TopoDS

    return getattr(TopoDS, f"TopoDS_{kind}")


def library_of(objs):
    """Which CAD library the shown objects come from: "build123d", "cadquery" or None."""
    for obj in objs:
        module = type(obj).__module__.split(".")[0]
        if module in ("build123d", "cadquery"):
            return module
    return None
