"""Real CAD objects (build123d, through ocp-tessellate) and ocp_vscode's own show()."""

import pytest

import ocp_notebook
from ocp_notebook import Viewer

from conftest import get_json, leaf_names

build123d = pytest.importorskip("build123d", reason="CI installs build123d and ocp-tessellate")



def model_of(viewer, model_id):
    return get_json(f"{viewer.server_url}/api/model/{model_id}")


def test_build123d_parts_are_tessellated_and_sent_as_buffers(server_url):
    from build123d import Axis, Box, Cylinder, Pos, fillet

    plate = fillet(Box(40, 30, 10).edges().filter_by(Axis.Z), radius=3)
    pin = Pos(0, 0, 15) * Cylinder(5, 20)
    viewer = Viewer(server=server_url, display=False)
    shown = viewer.show(plate, pin, names=["plate", "pin"], colors=["steelblue", (1.0, 0.0, 0.0)])
    assert shown.parts == 2 and shown.triangles > 200
    assert shown.convert_seconds > 0 and shown.upload_seconds > 0
    model = model_of(viewer, shown.model_id)
    assert leaf_names(model["data"]["shapes"]) == ["plate", "pin"]
    instance = model["data"]["instances"][0]
    assert instance["vertices"]["codec"] == "b64" and instance["triangles"]["dtype"] in ("int32", "uint32")
    colors = [part["color"] for part in model["data"]["shapes"]["parts"]]
    assert colors == ["#4682b4", "#ff0000"]


def test_an_assembly_keeps_its_structure(server_url):
    from build123d import Box, Compound, Cylinder, Pos

    base = Box(50, 50, 5)
    base.label = "base"
    post = Pos(0, 0, 15) * Cylinder(4, 25)
    post.label = "post"
    assembly = Compound(children=[base, post], label="stand")
    viewer = Viewer(server=server_url, display=False)
    shown = viewer.show(assembly)
    model = model_of(viewer, shown.model_id)
    assert leaf_names(model["data"]["shapes"]) == ["base", "post"]
    shown = viewer.add(Pos(30, 0, 0) * Box(5, 5, 5), name="cube", color="orange")
    assert leaf_names(model_of(viewer, shown.model_id)["data"]["shapes"]) == ["base", "post", "cube"]
    shown = viewer.remove("stand")
    assert leaf_names(model_of(viewer, shown.model_id)["data"]["shapes"]) == ["cube"]


def test_ocp_vscode_show_draws_in_an_ocp_notebook_viewer(server_url):
    pytest.importorskip("ocp_vscode", reason="CI installs ocp_vscode")
    from build123d import Box, Cylinder, Pos

    viewer = ocp_notebook.use_ocp_vscode(server=server_url, display=False)
    from ocp_vscode import set_viewer_config, show, show_object, status

    show(Box(10, 20, 5), Pos(0, 0, 10) * Cylinder(2, 10), names=["box", "pin"], colors=["steelblue", "red"])
    first = viewer.status().model_id
    assert first is not None
    assert leaf_names(model_of(viewer, first)["data"]["shapes"]) == ["box", "pin"]
    set_viewer_config(axes=True)
    assert viewer.status().config["axes"] is True
    assert status()["_splash"] is False
    show_object(Box(1, 1, 1), name="small", clear=True)
    second = viewer.status().model_id
    assert second != first
    assert leaf_names(model_of(viewer, second)["data"]["shapes"]) == ["small"]


def test_objects_with_one_name_are_removed_by_the_name_the_tree_shows(server_url):
    from build123d import Box, Compound, Pos

    viewer = Viewer(server=server_url, display=False)
    for x in (0, 20, 40):
        shown = viewer.add(Pos(x, 0, 0) * Box(5, 5, 20), name="post")
    viewer.add(Pos(0, 30, 0) * Box(50, 5, 5))
    shown = viewer.add(Compound(children=[Box(2, 2, 2)], label="asm"))
    top = [part["name"] for part in model_of(viewer, shown.model_id)["data"]["shapes"]["parts"]]
    assert top == ["post", "post_2", "post_3", "Solid", "asm"]
    shown = viewer.remove("post_2")
    assert leaf_names(model_of(viewer, shown.model_id)["data"]["shapes"])[:2] == ["post", "post_3"]
    with pytest.raises(ocp_notebook.OcpNotebookError, match="shown: post, post_3, Solid, asm"):
        viewer.remove("post_2")
    with pytest.raises(ocp_notebook.OcpNotebookError, match="'asm' is one object, removed whole"):
        viewer.remove("asm/Solid")
    shown = viewer.remove("Solid")
    top = [part["name"] for part in model_of(viewer, shown.model_id)["data"]["shapes"]["parts"]]
    assert top == ["post", "post_3", "asm"]
