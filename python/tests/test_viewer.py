"""The Python bridge against a real server: what a notebook cell does and reads back."""

import base64
import json
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

import ocp_notebook
from ocp_notebook import Mesh, Viewer
from ocp_notebook import server as servers
from ocp_notebook.frame import frame_url, iframe_html, page_path

from conftest import get_json, leaf_names

TRIANGLE = ([[0, 0, 0], [10, 0, 0], [0, 10, 0]], [[0, 1, 2]])


def stored(viewer, shown):
    return get_json(f"{viewer.server_url}/api/model/{shown.model_id}")



def decode(array):
    raw = base64.b64decode(array["buffer"])
    code = "f" if array["dtype"] == "float32" else "I"
    return list(struct.unpack(f"<{len(raw) // 4}{code}", raw))


def test_the_environment_url_is_used_and_a_started_server_is_remembered(server_url, binary, monkeypatch):
    monkeypatch.setenv(servers.URL_VAR, server_url)
    viewer = Viewer(display=False)
    assert viewer.server_url == server_url.split("?")[0].rstrip("/")
    monkeypatch.delenv(servers.URL_VAR)
    monkeypatch.setenv(servers.BIN_VAR, binary)
    started = Viewer(display=False)
    assert started.server_url != viewer.server_url, "a server of its own was started"
    again = Viewer(display=False)
    assert again.server_url == started.server_url, "the next viewer finds it again"


def test_a_child_server_exits_with_its_parent(binary):
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from ocp_notebook import server; "
         "print(server.start_child(sys.argv[1]), flush=True); time.sleep(600)", binary],
        stdout=subprocess.PIPE, text=True,
    )
    printed = parent.stdout.readline().strip()
    url, _, token = printed.partition("?token=")
    assert len(token) == 32, f"a started server wants a token for writes: {printed}"
    assert get_json(url.rstrip("/") + "/health")["status"] == "ok"
    refused = urllib.request.Request(
        url.rstrip("/") + "/api/config", data=b'{"axes": true}', method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(refused, timeout=10)
    assert error.value.code == 401
    parent.kill()
    parent.wait()
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url.rstrip("/") + "/health", timeout=1)
        except OSError:
            return
        time.sleep(0.1)
    pytest.fail("the child server outlived its parent")


def test_a_scene_built_cell_by_cell(server_url):
    viewer = Viewer(server=server_url, display=False)
    shown = viewer.show(Mesh(*TRIANGLE, name="tri"), colors=["#ff0000"])
    assert (shown.parts, shown.triangles) == (1, 1)
    viewer.add(TRIANGLE, name="second", color=(0.0, 0.5, 1.0))
    shown = viewer.add({"vertices": TRIANGLE[0], "triangles": TRIANGLE[1]}, name="third")
    model = stored(viewer, shown)
    assert leaf_names(model["data"]["shapes"]) == ["tri", "second", "third"]
    assert model["data"]["shapes"]["parts"][1]["color"] == "#0080ff"
    shown = viewer.remove("second")
    assert leaf_names(stored(viewer, shown)["data"]["shapes"]) == ["tri", "third"]
    with pytest.raises(ocp_notebook.OcpNotebookError, match="shown: tri, third"):
        viewer.remove("nothing")
    with pytest.raises(ValueError, match="shown alone"):
        viewer.add({"type": "data", "data": {}, "config": {}})
    assert viewer.config(axes=True, black_edges=True)["blackEdges"] is True
    status = viewer.status()
    assert status.model_id == shown.model_id and status.config["axes"] is True
    viewer.remove("tri")
    assert viewer.remove("third") is None, "removing the last object clears the viewer"
    assert viewer.status().model_id is None


def test_names_and_colors_for_fewer_objects_are_an_error_not_a_lost_object(server_url):
    viewer = Viewer(server=server_url, display=False)
    shown = viewer.show(Mesh(*TRIANGLE, name="kept"))
    for options in ({"names": ["a"]}, {"colors": ["red"]}, {"alphas": [0.5, 0.5, 0.5]}):
        with pytest.raises(ValueError, match="entries for 2 objects"):
            viewer.show(TRIANGLE, TRIANGLE, **options)
    assert viewer.status().model_id == shown.model_id, "a refused show() changes nothing"
    shown = viewer.show(TRIANGLE, TRIANGLE, names=["a", None], colors=None)
    assert shown.parts == 2


def test_objects_that_cannot_be_shown_are_an_error_and_leave_the_scene_as_it_was(server_url):
    viewer = Viewer(server=server_url, display=False)
    shown = viewer.show(Mesh(*TRIANGLE, name="kept"))
    for nothing in (object(), None, "box"):
        with pytest.raises(TypeError, match=type(nothing).__name__):
            viewer.show(nothing)
    assert viewer.status().model_id == shown.model_id, "the viewer still shows the last model"
    added = viewer.add(Mesh(*TRIANGLE, name="more"))
    assert leaf_names(stored(viewer, added)["data"]["shapes"]) == ["kept", "more"]


def test_numpy_meshes_are_sent_as_little_endian_buffers(server_url):
    np = pytest.importorskip("numpy")
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64)
    triangles = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]], dtype=np.int64)
    viewer = Viewer(server=server_url, display=False)
    shown = viewer.show(Mesh(vertices, triangles, name="tet"))
    shape = stored(viewer, shown)["data"]["shapes"]["parts"][0]["shape"]
    assert decode(shape["vertices"]) == vertices.ravel().tolist()
    assert decode(shape["triangles"]) == triangles.ravel().tolist()
    normals = decode(shape["normals"])
    assert len(normals) == 12 and all(abs(n) <= 1.0001 for n in normals)
    assert shape["vertices"]["dtype"] == "float32" and shape["triangles"]["dtype"] == "uint32"


def test_errors_are_exceptions_with_the_servers_message_and_path(server_url):
    viewer = Viewer(server=server_url, display=False)
    broken = {"type": "data", "config": {}, "data": {"instances": [], "shapes": {
        "version": 3, "id": "/a", "name": "a",
        "parts": [{"id": "/a/b", "name": "b", "state": [1, 1], "shape": {"ref": 3}}]}}}
    with pytest.raises(ocp_notebook.InvalidModel) as error:
        viewer.show(broken)
    assert error.value.path.startswith("$.data.shapes.parts[0]")
    assert "ref" in str(error.value) or "instance" in str(error.value)
    with pytest.raises(ValueError, match="out of range"):
        Mesh([[0, 0, 0]], [[0, 1, 2]])
    with pytest.raises(ocp_notebook.NoPage, match="no page is showing"):
        viewer.screenshot(timeout=1)
    with pytest.raises(ocp_notebook.ServerUnreachable, match="cannot be reached"):
        Viewer(server="http://127.0.0.1:9", display=False)
    with pytest.raises(ValueError, match="not a valid viewer id"):
        Viewer(id="<script>", server=server_url, display=False)
    request = urllib.request.Request(
        f"{viewer.server_url}/api/viewer/{viewer.id}", method="DELETE",
        headers={"Authorization": f"Bearer {viewer.client.token}"} if viewer.client.token else {},
    )
    urllib.request.urlopen(request).close()
    with pytest.raises(ocp_notebook.ViewerClosed):
        viewer.status()


def test_the_missing_binary_says_how_to_get_one():
    with pytest.raises(ocp_notebook.ServerStartError, match="cargo install"):
        servers.start_child("/nonexistent/ocp-notebook")


def test_where_the_iframe_points():
    path = page_path("v1", theme="dark", glass=False)
    assert path == "viewer/v1?theme=dark&glass=false"
    assert frame_url("http://127.0.0.1:4100", path, {}) == f"http://127.0.0.1:4100/{path}"
    hub = {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"}
    assert frame_url("http://127.0.0.1:4100", "viewer/v1", hub) == "/user/ada/proxy/4100/viewer/v1"
    template = {**hub, "OCP_NOTEBOOK_FRAME_URL": "https://x.org/p/{port}/{path}"}
    assert frame_url("http://127.0.0.1:4100", "viewer/v1", template) == "https://x.org/p/4100/viewer/v1"
    html = iframe_html('http://h/viewer/a?x="><script>', "a")
    assert "<script>" not in html and "&quot;&gt;&lt;script&gt;" in html


def test_a_viewer_displays_as_an_iframe_with_a_text_summary(server_url):
    viewer = Viewer(server=server_url, display=False, height=300, theme="dark")
    assert viewer.url.endswith(f"/viewer/{viewer.id}?theme=dark")
    assert f'src="{viewer.url}"' in viewer._repr_html_() and 'height="300"' in viewer._repr_html_()
    assert repr(viewer).startswith(f"ocp_notebook viewer {viewer.id} at ")


def test_viewers_side_by_side_in_one_output(server_url):
    first, second = (Viewer(server=server_url, display=False) for _ in range(2))
    shown = ocp_notebook.grid(first, second)
    html = shown._repr_html_()
    assert html.count("<iframe") == 2 and f'src="{second.url}"' in html
    assert repr(shown) == f"{first!r}\n{second!r}"


def test_big_uploads_stream_and_report_progress(server_url):
    viewer = Viewer(server=server_url, display=False)
    n = 200_000
    vertices = [[float(i % 1000), float(i // 1000), 0.0] for i in range(n)]
    triangles = [[i, i + 1, i + 1000] for i in range(n - 1001)]
    seen = []
    message = ocp_notebook.convert.to_message([Mesh(vertices, triangles, name="sheet")])
    body = json.dumps(message).encode()
    answer = viewer.client.post_json(f"/api/model?viewer={viewer.id}", body, progress=lambda s, t: seen.append((s, t)))
    assert answer["triangles"] == len(triangles)
    assert len(seen) > 3 and seen[-1] == (len(body), len(body))


def test_scenes_are_saved_and_embedded(server_url, tmp_path, monkeypatch):
    viewer = Viewer(server=server_url, display=False)
    with pytest.raises(ocp_notebook.ServerError, match="shows no model yet"):
        viewer.save_html(tmp_path / "unused.html")
    viewer.show(Mesh(*TRIANGLE, name="tri"))
    saved = viewer.save_html(tmp_path / "tri.html")
    assert repr(saved).startswith(f"wrote {tmp_path / 'tri.html'} (") and saved.bytes > 100_000
    html = open(saved).read()
    assert f"<title>{viewer.id}</title>" in html and 'id="ocp-model"' in html
    embedding = Viewer(server=server_url, display=False, embed=True)
    shown = embedding.show(Mesh(*TRIANGLE, name="tri"))
    bundle = shown._repr_mimebundle_()
    script = bundle["application/javascript"]
    assert '"ocp-notebook-scene"' in script and '"allow-scripts"' in script and '"srcdoc"' in script
    assert f"\\u003ctitle\\u003e{embedding.id}" in script, "the scene, its tags escaped in a JS string"
    assert "text/html" not in bundle, "no HTML, which a sanitizer would strip to its caption"
    assert "image/png" not in bundle, "no page is open, so there is no frame to photograph"
    assert bundle["text/plain"] == repr(shown)
    # In a kernel: the PNG (when there is one) and the script are outputs of their own, so that
    # where the script's output is kept empty (nbconvert --sanitize-html) the PNG still shows.
    shown.scene.png = b"\x89PNG fake"
    outputs = []
    monkeypatch.setattr(ocp_notebook.viewer, "_display", outputs.append)
    shown._ipython_display_()
    assert [sorted(output) for output in outputs] == [
        ["image/png", "text/plain"], ["application/javascript", "text/plain"],
    ]
    assert viewer.show(Mesh(*TRIANGLE, name="tri")).scene is None, "viewers embed only when asked"


def test_a_bare_tree_is_shown_and_named_by_its_root(server_url):
    viewer = Viewer(server=server_url, display=False)
    tree = ocp_notebook.convert.to_message([Mesh(*TRIANGLE, name="tri")])["data"]["shapes"]
    assert "instances" not in tree and "shapes" not in tree
    shown = viewer.show(tree)
    assert shown.parts == 1
    with pytest.raises(ocp_notebook.OcpNotebookError, match="shown: Group"):
        viewer.remove("nothing")
