"""The viewer's tools from Python: the server's mesh measurements against build123d's exact
values, picks mapped back to build123d objects, and animations (ours and ocp_vscode's)."""

import json
import math
import urllib.request

import pytest

import ocp_notebook
from ocp_notebook import ServerError, Viewer

build123d = pytest.importorskip("build123d", reason="CI installs build123d and ocp-tessellate")

# The tessellation's chord error bounds what a mesh can say about curved geometry: ocp-tessellate
# at its defaults (deviation 0.1 mm, 0.2 rad) misses well under 1 % of a curved area or length.
CURVED = 0.01
# Flat faces, straight edges, positions and fitted radii are exact up to float32 (a flat face
# with a hole gains the sliver between the hole and its polygon, well under this).
EXACT = 1e-4
# How far a mesh point may be from the exact surface: ocp-tessellate's deviation.
DEVIATION = 0.1


def bracket():
    """An L-bracket like tests/fixtures/bracket.json: fillets, a chamfer, through holes."""
    from build123d import Axis, Box, Cylinder, Pos, Rot, chamfer, fillet

    base = Box(80, 40, 8)
    wall = Pos(-36, 0, 24) * Box(8, 40, 40)
    part = base + wall
    part = fillet(part.edges().filter_by(Axis.Z).group_by(Axis.X)[-1], radius=6)
    part = chamfer(part.edges().filter_by(Axis.Y).sort_by(Axis.Z)[-1], length=2)
    for x in (-10, 25):
        part -= Pos(x, 0, 0) * Cylinder(4, 8)
    part -= Pos(-36, 0, 30) * Rot(0, 90, 0) * Cylinder(3, 8)
    return part


def report_picks(viewer, ids):
    """What the page posts after the user clicked `ids` with a measure tool."""
    body = json.dumps({"selectedShapeIDs": {"old": [], "new": ids}}).encode()
    request = urllib.request.Request(
        f"{viewer.server_url}/api/viewer/{viewer.id}/status", data=body,
        headers={"Content-Type": "application/json"}, method="POST",
    )
    urllib.request.urlopen(request, timeout=30).read()


def wait_for_kernel(viewer, timeout=10):
    """Until the server knows this kernel answers the viewer's measurements."""
    import time

    deadline = time.monotonic() + timeout
    while not viewer.status().get("measureBackend"):
        assert time.monotonic() < deadline, "the kernel never polled"
        time.sleep(0.05)


def close(mesh, exact, relative):
    return abs(mesh - exact) <= relative * max(abs(exact), 1.0)


@pytest.mark.parametrize("source", ["mesh", "exact"])
def test_measurements_agree_with_build123d(server_url, source):
    """One contract for both answers the page can get: the server's from the mesh, and this
    kernel's (`exact_measurements=True`), through the route the page asks."""
    from build123d import GeomType

    part = bracket()
    viewer = Viewer(server=server_url, display=False, exact_measurements=source == "exact")
    viewer.show(part, names=["bracket"])
    if source == "exact":
        wait_for_kernel(viewer)
    path = "/Group/bracket"
    faces, edges = part.faces(), part.edges()

    for i, face in enumerate(faces):
        answer = viewer.measure("properties", [f"{path}/faces/faces_{i}"])
        assert answer["source"] == source, answer.get("note")
        planar = face.geom_type == GeomType.PLANE
        assert answer["geom_type"].upper() == face.geom_type.name, (i, answer["geom_type"])
        assert close(answer["area"], face.area, EXACT if planar else CURVED), (i, answer["area"], face.area)
        if face.geom_type == GeomType.CYLINDER:
            assert close(answer["radius"], face.radius, EXACT), (i, answer["radius"], face.radius)
        if planar:
            center = face.center()
            offset = math.dist(answer["center"], (center.X, center.Y, center.Z))
            assert offset < DEVIATION / 2, (i, answer["center"], center)

    for i, edge in enumerate(edges):
        answer = viewer.measure("properties", [f"{path}/edges/edges_{i}"])
        straight = edge.geom_type == GeomType.LINE
        assert close(answer["length"], edge.length, EXACT if straight else CURVED), (i, answer, edge.length)
        if edge.geom_type == GeomType.CIRCLE:
            assert close(answer["radius"], edge.radius, EXACT), (i, answer["radius"], edge.radius)

    for i, vertex in enumerate(part.vertices()[:6]):
        answer = viewer.measure("properties", [f"{path}/vertices/vertices{i}"])
        assert all(close(a, b, EXACT) for a, b in zip(answer["vertex_coords"], (vertex.X, vertex.Y, vertex.Z)))

    planes = [i for i, f in enumerate(faces) if f.geom_type == GeomType.PLANE]
    for i in planes:
        for j in planes[:8]:
            if i >= j:
                continue
            distance = viewer.measure("distance", [f"{path}/faces/faces_{i}", f"{path}/faces/faces_{j}"])
            exact = faces[i].distance_to(faces[j])
            assert abs(distance["distance"] - exact) <= EXACT * max(exact, 1.0), (i, j, distance["distance"], exact)
            angle = viewer.measure("angle", [f"{path}/faces/faces_{i}", f"{path}/faces/faces_{j}"])
            cos = faces[i].normal_at().dot(faces[j].normal_at())
            exact_angle = math.degrees(math.acos(max(-1.0, min(1.0, cos))))
            assert abs(angle["angle"] - exact_angle) < 0.01, (i, j, angle["angle"], exact_angle)
    solid = viewer.measure("properties", [path])
    assert close(solid["volume"], part.volume, CURVED), (solid["volume"], part.volume)
    assert close(solid["area"], part.area, CURVED)


@pytest.mark.parametrize("name", ["box", "cylinder", "sphere", "cone"])
def test_primitives_measure_as_build123d_says(server_url, name):
    from build123d import Box, Cone, Cylinder, Sphere

    shape = {"box": Box(10, 20, 30), "cylinder": Cylinder(4, 12), "sphere": Sphere(7), "cone": Cone(6, 2, 9)}[name]
    viewer = Viewer(server=server_url, display=False)
    viewer.show(shape, names=[name])
    solid = viewer.measure("properties", [f"/Group/{name}"])
    assert close(solid["volume"], shape.volume, CURVED), (solid["volume"], shape.volume)
    assert close(solid["area"], shape.area, CURVED), (solid["area"], shape.area)
    for i, face in enumerate(shape.faces()):
        answer = viewer.measure("properties", [f"/Group/{name}/faces/faces_{i}"])
        assert close(answer["area"], face.area, CURVED), (i, answer["area"], face.area)
        if name in ("cylinder", "sphere") and answer["geom_type"] in ("Cylinder", "Sphere"):
            assert close(answer["radius"], face.radius, EXACT), (i, answer["radius"], face.radius)


def test_picks_come_back_as_the_build123d_objects_shown(server_url):
    from build123d import Box, Edge, Face, Pos

    part = bracket()
    other = Pos(100, 0, 0) * Box(5, 5, 5)
    viewer = Viewer(server=server_url, display=False)
    assert viewer.selection() == []
    viewer.show(part, other, names=["bracket", "cube"])
    report_picks(viewer, ["/Group/bracket/faces/faces_7", "/Group/cube/edges/edges_2", "/Group/cube"])
    picks = viewer.selection()
    assert [(p.path, p.kind, p.index) for p in picks] == [
        ("/Group/bracket", "face", 7), ("/Group/cube", "edge", 2), ("/Group/cube", "solid", None),
    ]
    face, edge, cube = viewer.picked_objects()
    assert isinstance(face, Face) and face.wrapped.IsSame(part.faces()[7].wrapped)
    assert isinstance(edge, Edge) and edge.wrapped.IsSame(other.edges()[2].wrapped)
    assert math.isclose(cube.volume, 125, rel_tol=1e-9)
    # The server measures the same picks.
    assert close(viewer.measure("properties", picks[:1])["area"], part.faces()[7].area, CURVED)
    # A pick the objects do not have says so; a new model drops the picks made on the old one.
    report_picks(viewer, ["/Group/cube/faces/faces_99"])
    with pytest.raises(ocp_notebook.OcpNotebookError, match="face 99 of /Group/cube: the part has 6 faces"):
        viewer.picked_objects()
    viewer.show(other, names=["cube"])
    assert viewer.selection() == []


def test_a_kernel_answers_only_for_the_model_it_showed(server_url):
    import time

    from build123d import Box

    viewer = Viewer(server=server_url, display=False, exact_measurements=True)
    # The thread's poll, sent before show() but arriving after show() marked the new model (as
    # on a busy machine), must not undo that mark.
    late_poll = viewer._answerer._poll_path(0, renew=True)
    viewer.show(Box(10, 20, 30), names=["brick"])
    viewer.client.get_json(late_poll)
    assert viewer.measure("properties", ["/Group/brick/faces/faces_0"])["source"] == "exact"
    # Someone else shows a model in this viewer: this kernel does not hold its objects.
    other = Viewer(id=viewer.id, server=server_url, display=False)
    other.show(Box(1, 2, 3), names=["brick"])
    started = time.monotonic()
    answer = viewer.measure("properties", ["/Group/brick/faces/faces_0"])
    assert answer["source"] == "mesh" and "showed model" in answer["note"], answer
    assert time.monotonic() - started < 2, "no waiting for a kernel that cannot answer"
    assert close(answer["area"], 6, EXACT)
    viewer.exact_measurements(False)


def test_animations_are_checked_and_ocp_vscode_animation_plays_here(server_url):
    from build123d import Box, Cylinder, Pos

    viewer = Viewer(server=server_url, display=False)
    viewer.show(Box(10, 10, 2), Pos(0, 0, 6) * Cylinder(1, 10), names=["base", "arm"])
    played = viewer.animate([("/Group/arm", "rz", [0, 1, 2], [0, 90, 0])], speed=2)
    assert played["duration"] == 2 and played["speed"] == 2
    assert viewer.status().config["animation"]["tracks"][0]["path"] == "/Group/arm"
    with pytest.raises(ServerError) as caught:
        viewer.animate([("/Group/leg", "rz", [0, 1], [0, 90])])
    assert caught.value.path == "$.tracks[0].path" and "/Group/arm" in caught.value.message
    viewer.stop_animation()
    assert viewer.status().config["animation"] is None

    pytest.importorskip("ocp_vscode", reason="CI installs ocp_vscode")
    vscode = ocp_notebook.use_ocp_vscode(server=server_url, display=False)
    from ocp_vscode import Animation, show

    show(Box(10, 10, 2), Pos(0, 0, 6) * Cylinder(1, 10), names=["base", "arm"])
    animation = Animation()
    animation.add_track("/Group/arm", "tz", [0, 1, 2], [0, 5, 0])
    animation.animate(3)
    kept = vscode.status().config["animation"]
    assert kept["speed"] == 3 and kept["tracks"][0]["action"] == "tz"
