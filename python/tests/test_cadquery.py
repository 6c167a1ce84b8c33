"""CadQuery objects and assemblies, through ocp-tessellate. CadQuery brings its own OCP build,
which cannot share an environment with build123d's: `tests/python.rs` runs this file in a
second one (target/venv-cadquery)."""

import pytest

from ocp_notebook import Viewer

from conftest import get_json, leaves

cq = pytest.importorskip("cadquery", reason="runs in the CadQuery environment")



def test_cadquery_workplanes_and_assemblies(server_url):
    viewer = Viewer(server=server_url, display=False)
    box = cq.Workplane().box(20, 10, 5).edges("|Z").fillet(1)
    shown = viewer.show(box, names=["box"], colors=["steelblue"])
    assert shown.parts == 1 and shown.triangles > 100
    assembly = (
        cq.Assembly(name="stand")
        .add(box, name="base", color=cq.Color("blue"))
        .add(cq.Workplane().cylinder(10, 2), name="pin", loc=cq.Location((0, 0, 8)), color=cq.Color("red"))
    )
    shown = viewer.show(assembly)
    model = get_json(f"{viewer.server_url}/api/model/{shown.model_id}")
    parts = leaves(model["data"]["shapes"])
    assert [(p["name"], p["color"]) for p in parts] == [("base", "#0000ff"), ("pin", "#ff0000")]


def test_cadquery_picks_come_back_as_cadquery_faces(server_url):
    import json
    import urllib.request

    viewer = Viewer(server=server_url, display=False)
    box = cq.Workplane().box(20, 10, 5).edges("|Z").fillet(1)
    viewer.show(box, names=["box"])
    # What the page posts after the user clicked a face with the properties tool.
    body = json.dumps({"selectedShapeIDs": {"new": ["/Group/box/faces/faces_4"]}}).encode()
    request = urllib.request.Request(
        f"{viewer.server_url}/api/viewer/{viewer.id}/status", data=body,
        headers={"Content-Type": "application/json"}, method="POST",
    )
    urllib.request.urlopen(request, timeout=30).read()
    (face,) = viewer.picked_objects()
    solid = box.val()
    assert isinstance(face, cq.Face) and face.wrapped.IsSame(solid.Faces()[4].wrapped)
    area = viewer.measure("properties", viewer.selection())["area"]
    assert abs(area - face.Area()) <= 0.01 * face.Area()
