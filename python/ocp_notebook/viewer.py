"""`Viewer`: one live viewer on one id, shown inline in a notebook and fed from any later cell."""

import json
import re
import time
import uuid

from . import server as servers
from .convert import Mesh, to_message
from .errors import OcpNotebookError
from .frame import frame_url, iframe_html, page_path

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Shown:
    """What the server stored for one `show` / `add` / `remove`, and how long it took:
    `convert_seconds` (tessellation and buffers) and `upload_seconds` (JSON and the request)."""

    def __init__(self, answer, convert_seconds, upload_seconds):
        self.viewer_id = answer["viewer_id"]
        self.model_id = answer["model_id"]
        self.parts = answer["parts"]
        self.instances = answer["instances"]
        self.triangles = answer["triangles"]
        self.bytes = answer["bytes"]
        self.convert_seconds = convert_seconds
        self.upload_seconds = upload_seconds

    def __repr__(self):
        plural = "" if self.parts == 1 else "s"
        return (
            f"viewer {self.viewer_id}: model {self.model_id} with {self.parts} part{plural}, "
            f"{self.triangles} triangles ({self.bytes / 1000:.1f} KB)"
        )


class Status(dict):
    """What the viewer's pages reported (camera `position`, `quaternion`, `target`, `zoom`, tree
    visibility `states`, `lastPick`, UI toggles), with the viewer's `subscribers` (open pages),
    `model_id` and effective `config` as attributes."""

    def __init__(self, answer):
        super().__init__(answer.get("status", {}))
        self.subscribers = answer.get("subscribers", 0)
        self.model_id = answer.get("model_id")
        self.config = answer.get("config", {})


class PNG(bytes):
    """PNG bytes that a notebook shows as the image (and keeps in the saved notebook)."""

    def _repr_png_(self):
        return bytes(self)

    def save(self, path):
        with open(path, "wb") as file:
            file.write(self)


class Viewer:
    """A live 3D viewer in a notebook.

    `Viewer()` finds or starts the server, makes a viewer on a fresh id and shows it under the
    cell. `height`, `width`, `theme`, `tree_width`, `glass`, `tools` set its frame; `server` a
    URL to use instead of the environment's; `id` a fixed id.
    """

    def __init__(self, id=None, *, height=480, width="100%", theme=None, tree_width=None,
                 glass=None, tools=None, server=None, display=True):
        if id is not None and not _ID.match(id):
            raise ValueError(f"{id!r} is not a valid viewer id: 1-64 of A-Z, a-z, 0-9, '_', '-'")
        self.client = servers.connect(server)
        self.id = id or f"v-{uuid.uuid4().hex[:12]}"
        # Registers the viewer: listed, and its status readable before any model.
        self.client.post_json(f"/api/viewer/{self.id}/config", b"{}")
        path = page_path(self.id, theme=theme, tree_width=tree_width, glass=glass, tools=tools)
        self.url = frame_url(self.client.base, path)
        self.width, self.height = width, height
        self._scene = []
        if display:
            self.display()

    @property
    def server_url(self):
        return self.client.base

    def display(self):
        """Shows the viewer in the current cell's output."""
        try:
            from IPython.display import display
        except ImportError:
            print(repr(self))
            return
        display(self)

    def _repr_html_(self):
        return iframe_html(self.url, self.id, self.width, self.height)

    def __repr__(self):
        return f"ocp_notebook viewer {self.id} at {self.url} (live while its server runs)"

    def show(self, *objs, names=None, colors=None, alphas=None, **viewer_options):
        """Shows `objs` (build123d / CadQuery objects, meshes, three-cad-viewer or ocp_vscode
        dicts), replacing what the viewer showed. `viewer_options` are ocp_vscode's show()
        settings (`reset_camera="keep"`, `axes=True`, `deviation=0.05`, ...)."""
        names = [name or _own_name(obj) for obj, name in zip(objs, names or [None] * len(objs))]
        colors = colors or [None] * len(objs)
        alphas = alphas or [None] * len(objs)
        self._scene = list(zip(objs, names, colors, alphas))
        return self._send(viewer_options)

    def add(self, obj, name=None, color=None, alpha=None, **viewer_options):
        """Adds one object to what `show` / `add` put in the viewer, and shows them all."""
        self._scene.append((obj, name or _own_name(obj), color, alpha))
        try:
            return self._send(viewer_options)
        except Exception:
            self._scene.pop()
            raise

    def remove(self, name, **viewer_options):
        """Takes the object called `name` (as given to `show` / `add`, or its own label) out of
        the viewer; removing the last one clears it."""
        kept = [entry for entry in self._scene if entry[1] != name]
        if len(kept) == len(self._scene):
            names = ", ".join(str(entry[1]) for entry in self._scene) or "nothing yet"
            raise OcpNotebookError(f"nothing shown is called {name!r}; shown: {names}")
        self._scene, before = kept, self._scene
        if not kept:
            self.clear()
            return None
        try:
            return self._send(viewer_options)
        except Exception:
            self._scene = before
            raise

    def clear(self):
        """Empties the viewer (its pages show the splash again)."""
        self._scene = []
        self.client.post_json(f"/api/viewer/{self.id}/clear", b"")

    def config(self, **settings):
        """Changes settings live without sending the model again (`axes=True`,
        `theme="dark"`, ...); answers the viewer's effective settings."""
        body = json.dumps(to_javascript(settings)).encode()
        return self.client.post_json(f"/api/viewer/{self.id}/config", body)["config"]

    def status(self):
        """What the viewer's pages last reported, as a `Status` dict."""
        return Status(self.client.get_json(f"/api/viewer/{self.id}/status"))

    def screenshot(self, timeout=20):
        """A PNG of what the viewer's page shows; a page must be open (the notebook's frame or a tab)."""
        png = self.client.request(
            "POST", f"/api/viewer/{self.id}/screenshot?timeout={timeout}", timeout=timeout + 10,
        )
        return PNG(png)

    def _send(self, viewer_options):
        start = time.perf_counter()
        if not self._scene:
            raise OcpNotebookError("nothing to show")
        objs, names, colors, alphas = (list(column) for column in zip(*self._scene))
        message = to_message(objs, names, colors, alphas, to_javascript(viewer_options))
        converted = time.perf_counter()
        body = encode(message)
        answer = self.client.post_json(f"/api/model?viewer={self.id}", body)
        return Shown(answer, converted - start, time.perf_counter() - converted)


def _own_name(obj):
    """The name an object carries itself: a `Mesh`'s, or a build123d object's `label`."""
    name = getattr(obj, "name", None) if isinstance(obj, Mesh) else getattr(obj, "label", None)
    return name if isinstance(name, str) and name else None


def to_javascript(settings):
    """ocp_vscode's snake_case settings in the viewer's camelCase (`reset_camera` ->
    `resetCamera`); enum values by value."""
    out = {}
    for key, value in settings.items():
        head, *rest = key.split("_")
        name = head + "".join(part[:1].upper() + part[1:] for part in rest) if not key.startswith("_") else key
        out[name] = getattr(value, "value", value)
    return out


def encode(message):
    """JSON bytes of a message: with orjson when it is installed (ocp_vscode users have it; about
    8x faster on a big model), else the standard library."""
    try:
        import orjson
    except ImportError:
        return json.dumps(message, default=_json_default, separators=(",", ":")).encode()
    return orjson.dumps(message, default=_json_default, option=orjson.OPT_SERIALIZE_NUMPY)


def _json_default(obj):
    """numpy numbers and arrays, which CAD tessellation and meshes may leave in a message."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "value"):
        return obj.value
    raise TypeError(f"{type(obj).__name__} cannot be sent to the viewer")
