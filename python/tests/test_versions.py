"""Every show a version: real build123d edits, what `diff()` says of them, the history, and a
version put back on screen."""

import pytest

from ocp_notebook import Viewer

from conftest import get_json

build123d = pytest.importorskip("build123d", reason="CI installs build123d and ocp-tessellate")


def bracket(hole_x):
    from build123d import Box, Cylinder, Pos

    return Box(30, 20, 10) - Pos(hole_x, 0, 0) * Cylinder(3, 10)


def plate(filleted):
    from build123d import Axis, Box, Pos, fillet

    body = Box(40, 30, 5)
    if filleted:
        body = fillet(body.edges().filter_by(Axis.Z), radius=3)
    return Pos(0, 0, -10) * body


def test_diff_names_a_fillet_a_moved_hole_a_moved_part_and_a_removed_one(server_url):
    from build123d import Cylinder, Pos

    viewer = Viewer(server=server_url, display=False)
    first = viewer.show(plate(False), bracket(0), Pos(30, 0, 0) * Cylinder(2, 20), names=["plate", "bracket", "pin"])
    everything = viewer.diff()
    assert everything.earlier is None and sorted(everything["added"]) == ["/Group/bracket", "/Group/pin", "/Group/plate"]

    # A fillet added to the plate, the bracket's hole moved, the pin removed.
    second = viewer.show(plate(True), bracket(5), names=["plate", "bracket"])
    diff = viewer.diff()
    assert (diff.earlier, diff.later) == (first.model_id, second.model_id)
    assert diff["changed"] == ["/Group/bracket", "/Group/plate"]
    assert diff["removed"] == ["/Group/pin"]
    assert diff["added"] == diff["moved"] == diff["unchanged"] == []
    assert "removed: /Group/pin" in repr(diff)

    # The same bracket, placed higher: its mesh is the same, its placement is not.
    third = viewer.show(plate(True), Pos(0, 0, 20) * bracket(5), names=["plate", "bracket"])
    diff = viewer.diff()
    assert diff["moved"] == ["/Group/bracket"] and diff["unchanged"] == ["/Group/plate"]
    assert diff["changed"] == []

    # Re-running the cell unchanged: nothing changed, and the server kept no second copy.
    fourth = viewer.show(plate(True), Pos(0, 0, 20) * bracket(5), names=["plate", "bracket"])
    assert all(not viewer.diff()[kind] for kind in ("added", "removed", "changed", "moved", "restyled"))
    history = viewer.history()
    assert [version["model_id"] for version in history] == [s.model_id for s in (first, second, third, fourth)]
    assert history.shown == fourth.model_id
    assert history[3]["new_bytes"] < history[2]["bytes"] / 10, history
    assert "4 versions kept" in repr(history)

    # Back to the first version, and the diff between any two.
    viewer.show_version(first.model_id)
    assert viewer.status().model_id == first.model_id
    back = viewer.diff(fourth.model_id, first.model_id)
    assert back["added"] == ["/Group/pin"] and back["changed"] == ["/Group/bracket", "/Group/plate"]


def test_a_version_that_is_not_kept_is_a_clear_error(server_url):
    from ocp_notebook.errors import ServerError

    viewer = Viewer(server=server_url, display=False)
    viewer.show(plate(False), names=["plate"])
    with pytest.raises(ServerError) as error:
        viewer.show_version("not-a-version")
    assert error.value.code == "version_not_kept" and "keeps no version" in str(error.value)
    tree = get_json(f"{viewer.server_url}/api/model/{viewer.history()[0]['model_id']}/tree")
    assert tree["parts"], "the plate's mesh is a part of its own"


def test_a_saved_scene_carries_the_history_when_asked(server_url, tmp_path):
    viewer = Viewer(server=server_url, display=False)
    viewer.show(plate(False), names=["plate"])
    viewer.show(plate(True), names=["plate"])
    plain = viewer.save_html(tmp_path / "plain.html")
    stepping = viewer.save_html(tmp_path / "steps.html", history=True)
    assert b'id="ocp-history"' in (tmp_path / "steps.html").read_bytes()
    assert b'id="ocp-history"' not in (tmp_path / "plain.html").read_bytes()
    assert stepping.bytes > plain.bytes
