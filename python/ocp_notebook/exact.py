"""Exact measurements from this kernel: the viewer's measure tools answered from the CAD
objects the viewer last showed, with OCCT, instead of from the mesh.

`Viewer(exact_measurements=True)` (or `viewer.exact_measurements(True)`) starts a daemon thread
that polls the server for the viewer's measurements (`GET /api/viewer/<id>/tool-requests`) and
posts each answer back. While it polls, the server hands every page's measurement to it first
and answers from the mesh only when it does not answer in 5 s. The answers follow the mesh's
conventions (the server's `measure` module) so the page shows the same fields either way.
"""

import json
import math
import threading
import urllib.parse
import uuid

from .errors import OcpNotebookError, ViewerClosed

# OCCT's surface and curve types, in the order of its enums (the tessellator's numbers).
SURFACES = ["Plane", "Cylinder", "Cone", "Sphere", "Torus", "Bezier", "BSpline", "Revolution",
            "Extrusion", "Offset", "Other"]
CURVES = ["Line", "Circle", "Ellipse", "Hyperbola", "Parabola", "Bezier", "BSpline", "Offset", "Other"]


class Answerer(threading.Thread):
    """Polls for `viewer`'s measurements and answers them until `stop()`."""

    def __init__(self, viewer):
        super().__init__(daemon=True, name=f"ocp-notebook measurements {viewer.id}")
        self.viewer = viewer
        self.stopped = threading.Event()
        self.answered = 0
        # The server keeps a mark this kernel renews apart from another kernel's.
        self.kernel = uuid.uuid4().hex
        # The first poll, here: once the constructor returns, the server sends measurements to
        # this kernel (and none made meanwhile is missed: polling resumes after it).
        self.after = self.mark()

    def mark(self):
        """Tells the server, at once, that this kernel answers for the model the viewer last
        showed (also after each show: the thread's poll may be waiting with the one before).
        Requests it brings are left to the thread, which sees them too. Answers the id to poll
        after."""
        work = self.viewer.client.get_json(self._poll_path(wait=0))
        return work.get("last_event_id")

    def _poll_path(self, wait, after=None, renew=False):
        query = {"wait": wait, "kernel": self.kernel}
        if renew:
            # The thread's poll may have left before a show() marked a new model: it only says
            # the kernel is still there, and leaves the model to the marks.
            query["renew"] = 1
        if self.viewer._model_id:
            query["model"] = self.viewer._model_id
        if after:
            query["after"] = after
        return f"/api/viewer/{self.viewer.id}/tool-requests?{urllib.parse.urlencode(query)}"

    def stop(self):
        self.stopped.set()

    def run(self):
        try:
            self._serve()
        finally:
            if self.stopped.is_set():
                # Said last, so no poll of this thread marks the kernel present again.
                try:
                    self.viewer.client.request("DELETE", f"/api/viewer/{self.viewer.id}/tool-requests")
                except OcpNotebookError:
                    pass

    def _serve(self):
        viewer, after = self.viewer, self.after
        while not self.stopped.is_set():
            try:
                work = viewer.client.request("GET", self._poll_path(20, after, renew=True), timeout=40)
            except ViewerClosed:
                return
            except OcpNotebookError:
                self.stopped.wait(2)
                continue
            work = json.loads(work)
            after = work.get("last_event_id") or after
            for request in work.get("requests", []):
                if self.stopped.is_set():
                    break
                # Another kernel (or a later run of this notebook) showed the model on screen:
                # leave the request to it, or to the mesh.
                if request.get("model_id") != viewer._model_id:
                    continue
                answer = answer_request(viewer, request)
                try:
                    viewer.client.post_json(
                        f"/api/viewer/{viewer.id}/tool-requests/{request['request_id']}",
                        json.dumps(answer).encode(),
                    )
                    self.answered += 1
                except OcpNotebookError:
                    pass  # timed out meanwhile: the page got the mesh's answer


def answer_request(viewer, request):
    """The answer to one request about the model this viewer showed: a `tool_response`'s
    values, or `{"error": why}`."""
    try:
        shapes = [_shape(viewer._shapes, pick) for pick in request["picks"]]
        tool = request["tool"]
        values = {
            "DistanceMeasurement": distance,
            "PropertiesMeasurement": properties,
            "AngleMeasurement": angle,
        }[tool](*zip(request["picks"], shapes))
    except Exception as error:  # noqa: BLE001 - any failure is the mesh's to answer
        return {"error": f"{type(error).__name__}: {error}"}
    return {"tool_type": tool, **values}


def _shape(index, pick):
    from .tools import Pick

    obj = index.object(Pick(pick["path"], pick["kind"], pick["index"], None))
    if obj is None:
        raise ValueError(f"{pick['path']} is not a CAD object this kernel showed")
    return getattr(obj, "wrapped", obj)


def _label(pick):
    if pick["index"] is None:
        return f"{pick['kind']} {pick['path']}"
    return f"{pick['kind']} {pick['index']} of {pick['path']}"


def _xyz(point):
    return [point.X(), point.Y(), point.Z()]


def _number(x):
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def distance(first, second):
    from OCP.BRepExtrema import BRepExtrema_DistShapeShape

    (pick_a, a), (pick_b, b) = first, second
    extrema = BRepExtrema_DistShapeShape(a, b)
    if not extrema.IsDone() or extrema.NbSolution() == 0:
        raise ValueError("OCCT found no distance")
    value = extrema.Value()
    return {
        "distance": value,
        "point1": _xyz(extrema.PointOnShape1(1)),
        "point2": _xyz(extrema.PointOnShape2(1)),
        "info": f"Distance {_number(value)} from {_label(pick_a)} to {_label(pick_b)} (exact)",
    }


def properties(first):
    from OCP.BRep import BRep_Tool
    from OCP.BRepAdaptor import BRepAdaptor_Curve, BRepAdaptor_Surface
    from OCP.BRepGProp import BRepGProp
    from OCP.GCPnts import GCPnts_AbscissaPoint
    from OCP.GProp import GProp_GProps
    from OCP.TopAbs import TopAbs_REVERSED
    from ocp_tessellate.ocp_utils import downcast

    pick, shape = first
    shape = downcast(shape)
    kind = pick["kind"]
    out, lines = {}, [_label(pick)]
    if kind == "vertex":
        point = _xyz(BRep_Tool.Pnt_s(shape))
        out.update(vertex_coords=point, center=point)
    elif kind == "edge":
        curve = BRepAdaptor_Curve(shape)
        name = CURVES[_enum(curve.GetType())]
        props = GProp_GProps()
        BRepGProp.LinearProperties_s(shape, props)
        length = props.Mass()
        middle = GCPnts_AbscissaPoint(curve, length / 2, curve.FirstParameter()).Parameter()
        out.update(geom_type=name, length=length, center=_xyz(curve.Value(middle)))
        lines += [f"type {name}", f"length {_number(length)}"]
        if name == "Circle":
            circle = curve.Circle()
            out.update(radius=circle.Radius(), circle_center=_xyz(circle.Location()))
            lines.append(f"radius {_number(circle.Radius())}")
    else:
        props = GProp_GProps()
        BRepGProp.SurfaceProperties_s(shape, props)
        area = props.Mass()
        out.update(area=area, center=_xyz(props.CentreOfMass()))
        if kind == "face":
            surface = BRepAdaptor_Surface(shape)
            name = SURFACES[_enum(surface.GetType())]
            out["geom_type"] = name
            lines.append(f"type {name}")
            if name == "Plane":
                normal = surface.Plane().Axis().Direction()
                sign = -1.0 if shape.Orientation() == TopAbs_REVERSED else 1.0
                out["normal"] = [sign * normal.X(), sign * normal.Y(), sign * normal.Z()]
            radius = {"Cylinder": lambda: surface.Cylinder().Radius(), "Sphere": lambda: surface.Sphere().Radius()}.get(name)
            if radius:
                out["radius"] = radius()
        lines.append(f"area {_number(area)}")
        if kind == "solid":
            volume = GProp_GProps()
            BRepGProp.VolumeProperties_s(shape, volume)
            out.update(volume=abs(volume.Mass()), center=_xyz(volume.CentreOfMass()))
            lines.append(f"volume {_number(abs(volume.Mass()))}")
        if "radius" in out:
            lines.append(f"radius {_number(out['radius'])}")
    lines.append("center (" + ", ".join(_number(c) for c in out["center"]) + ")")
    if kind != "vertex":
        out["bb"] = _bounds(shape)
        lines.append("size (" + ", ".join(_number(c) for c in out["bb"]["size"]) + ")")
    out["info"] = "\n".join(lines) + "\n(exact)"
    return out


def angle(first, second):
    (pick_a, a), (pick_b, b) = first, second
    (da, pa), (db, pb) = _direction(pick_a, a), _direction(pick_b, b)
    cos = max(-1.0, min(1.0, sum(x * y for x, y in zip(da, db))))
    kinds = (pick_a["kind"], pick_b["kind"])
    if kinds == ("face", "face"):
        degrees = math.degrees(math.acos(cos))
    elif kinds == ("edge", "edge"):
        degrees = math.degrees(math.acos(abs(cos)))
    else:
        degrees = 90.0 - math.degrees(math.acos(abs(cos)))
    return {
        "angle": degrees, "point1": pa, "point2": pb,
        "info": f"Angle {_number(degrees)}° between {_label(pick_a)} and {_label(pick_b)} (exact)",
    }


def _direction(pick, shape):
    """A planar face's outward normal or a straight edge's direction, with its centre: the same
    rule as the mesh's."""
    from OCP.BRepAdaptor import BRepAdaptor_Curve, BRepAdaptor_Surface
    from OCP.TopAbs import TopAbs_REVERSED
    from ocp_tessellate.ocp_utils import downcast

    shape = downcast(shape)
    values = properties((pick, shape))
    if pick["kind"] == "face" and SURFACES[_enum(BRepAdaptor_Surface(shape).GetType())] == "Plane":
        return values["normal"], values["center"]
    if pick["kind"] == "edge":
        curve = BRepAdaptor_Curve(shape)
        if CURVES[_enum(curve.GetType())] == "Line":
            d = curve.Line().Direction()
            sign = -1.0 if shape.Orientation() == TopAbs_REVERSED else 1.0
            return [sign * d.X(), sign * d.Y(), sign * d.Z()], values["center"]
    raise ValueError(f"{_label(pick)} is not a planar face or a straight edge")


def _bounds(shape):
    from OCP.Bnd import Bnd_Box
    from OCP.BRepBndLib import BRepBndLib

    box = Bnd_Box()
    BRepBndLib.AddOptimal_s(shape, box, False, False)
    lo, hi = _xyz(box.CornerMin()), _xyz(box.CornerMax())
    return {
        "min": lo, "max": hi,
        "size": [h - l for l, h in zip(lo, hi)],
        "center": [(l + h) / 2 for l, h in zip(lo, hi)],
    }


def _enum(value):
    """An OCCT enum's number."""
    return value.value if hasattr(value, "value") else int(value)
