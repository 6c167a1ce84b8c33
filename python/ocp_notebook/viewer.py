"""`Viewer`: one live viewer on one id, shown inline in a notebook and fed from any later cell."""

import base64
import contextlib
import json
import os
import re
import time
import urllib.parse
import uuid
import warnings

from . import history as versions
from . import server as servers
from .convert import Mesh, _unique, per_object, to_message, top_level_names
from .errors import InvalidModel, OcpNotebookError, ServerError
from .frame import frame_url, grid_html, iframe_html, page_path
from .tools import ShapeIndex, library_of, picks_of, track

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def valid_id(value):
    """Whether `value` is a viewer id the server takes: 1-64 characters of A-Z, a-z, 0-9, '_'
    or '-' (the server's rule, src/ids.rs)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def _display(bundle):
    """One output in the running kernel."""
    from IPython.display import display

    display(bundle, raw=True)


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
        # The scene, for viewers that embed it (`Viewer(embed=True)`).
        self.scene = None

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.scene._repr_mimebundle_() if self.scene else {}
        return {**bundle, "text/plain": repr(self)}

    def _ipython_display_(self):
        if self.scene:
            self.scene._ipython_display_()
        else:
            _display({"text/plain": repr(self)})

    def __repr__(self):
        plural = "" if self.parts == 1 else "s"
        return (
            f"viewer {self.viewer_id}: model {self.model_id} with {self.parts} part{plural}, "
            f"{self.triangles} triangles ({self.bytes / 1000:.1f} KB)"
        )


class SavedScene(os.PathLike):
    """Where `Viewer.save_html` wrote a scene (usable as the path) and its size."""

    def __init__(self, path, size):
        self.path, self.bytes = os.fspath(path), size

    def __fspath__(self):
        return self.path

    def __repr__(self):
        return f"wrote {self.path} ({self.bytes / 1000:.1f} KB): opens offline in any browser"


class EmbeddedScene:
    """A viewer's scene kept in a cell's output: see `Viewer.embed`.

    In a kernel it is two outputs: the PNG of the last frame, then the script that draws the
    scene and hides that PNG. No HTML: a sanitizer (an untrusted notebook, nbconvert
    `--sanitize-html`) would strip it down to its caption. Where outputs are trusted the script
    runs; elsewhere the PNG shows, with the script's text under it."""

    def __init__(self, viewer_id, script, png):
        self.viewer_id, self.script, self.png = viewer_id, script, png

    def _repr_mimebundle_(self, include=None, exclude=None):
        """All in one bundle, for callers that show one output."""
        bundle = {"application/javascript": self.script.decode(), "text/plain": repr(self)}
        if self.png:
            bundle["image/png"] = base64.b64encode(self.png).decode()
        return bundle

    def _ipython_display_(self):
        if self.png:
            _display({"image/png": base64.b64encode(self.png).decode(), "text/plain": repr(self)})
        _display({"application/javascript": self.script.decode(), "text/plain": repr(self)})

    def __repr__(self):
        kept = f"ocp_notebook scene of viewer {self.viewer_id} ({len(self.script) / 1000:.1f} KB)"
        if not self.png:
            kept += ", with no image of it (no page was open)"
        return f"{kept} kept in the notebook: trust the notebook to see the model here, with no server"


class Status(dict):
    """What the viewer's pages reported (camera `position`, `quaternion`, `target`, `zoom`, tree
    visibility `states`, `lastPick`, UI toggles), with the viewer's `subscribers` (open pages),
    `model_id` and effective `config` as attributes."""

    def __init__(self, answer):
        super().__init__(answer.get("status", {}))
        self.viewer_id = answer.get("viewer_id")
        self.subscribers = answer.get("subscribers", 0)
        self.model_id = answer.get("model_id")
        self.config = answer.get("config", {})

    def __repr__(self):
        if not self:
            return (
                f"viewer {self.viewer_id}: {self.subscribers} page(s) open; no page has reported "
                "yet: open the viewer (run the cell that shows it, or its URL)"
            )
        return super().__repr__()


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
    URL to use instead of the environment's; `id` a fixed id; `embed=True` makes each push put
    the scene itself in its cell's output (`embed()`), so the saved notebook shows the model;
    `exact_measurements=True` answers the page's measure tools from the CAD objects shown here
    (`exact_measurements()`).
    """

    def __init__(self, id=None, *, height=480, width="100%", theme=None, tree_width=None,
                 glass=None, tools=None, server=None, display=True, embed=False,
                 exact_measurements=False):
        if id is not None and not valid_id(id):
            raise ValueError(f"{id!r} is not a valid viewer id: 1-64 of A-Z, a-z, 0-9, '_', '-'")
        self.client = servers.connect(server)
        self.id = id or f"v-{uuid.uuid4().hex[:12]}"
        # Registers the viewer: listed, and its status readable before any model.
        self.client.post_json(f"/api/viewer/{self.id}/config", b"{}")
        path = page_path(self.id, theme=theme, tree_width=tree_width, glass=glass, tools=tools)
        self.url = frame_url(self.client.base, path)
        self.width, self.height = width, height
        self.embeds = embed
        self._scene = []
        self._shapes = ShapeIndex()
        self._model_id = None
        self._answerer = None
        if exact_measurements:
            self.exact_measurements(True)
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
        names, colors, alphas = per_object(objs, names=names, colors=colors, alphas=alphas)
        names = [name or _own_name(obj) for obj, name in zip(objs, names)]
        taken = set()
        scene = [
            _Entry(obj, _unique(name, taken) if name else None, color, alpha)
            for obj, name, color, alpha in zip(objs, names, colors, alphas)
        ]
        return self._push(scene, viewer_options)

    def add(self, obj, name=None, color=None, alpha=None, **viewer_options):
        """Adds one object to what `show` / `add` put in the viewer, and shows them all. A name
        already shown gets a suffix, as the viewer's tree shows it: `post`, `post_2`, ..."""
        name = name or _own_name(obj)
        if name:
            name = _unique(name, {entry.shown or entry.name for entry in self._scene})
        return self._push([*self._scene, _Entry(obj, name, color, alpha)], viewer_options)

    def remove(self, name, **viewer_options):
        """Takes the object shown as `name` out of the viewer: the name the viewer's tree shows
        at the top (`post_2` for the second object named `post`). Removing the last one clears
        the viewer; the others keep their names."""
        first, _, rest = name.strip("/").partition("/")
        index = next((i for i, e in enumerate(self._scene) if first in (e.shown, e.name)), None)
        if index is None or rest:
            shown = ", ".join(str(e.shown or e.name) for e in self._scene) or "nothing yet"
            reason = (
                f"{first!r} is one object, removed whole: remove({first!r})"
                if index is not None
                else f"nothing shown is called {name!r}"
            )
            raise OcpNotebookError(f"{reason}; shown: {shown}")
        rest = self._scene[:index] + self._scene[index + 1:]
        if not rest:
            self.clear()
            return None
        return self._push(rest, viewer_options)

    def _push(self, scene, viewer_options):
        """Shows `scene` (the bridge's list of what the viewer shows) in place of the current
        one; a push the server or the conversion refuses leaves the current one as it was."""
        before, self._scene = self._scene, scene
        try:
            return self._send(viewer_options)
        except Exception:
            self._scene = before
            raise

    def save_html(self, path, history=False):
        """Writes the viewer's model and settings as one HTML file that opens offline, in any
        browser, with no server (the renderer, the page and the model in one file); answers
        where it went (a path-like `SavedScene`). With `history=True` the file also carries the
        viewer's kept versions and steps through them (the history control, compare)."""
        html = self._scene_html(history)
        with open(path, "wb") as file:
            file.write(html)
        return SavedScene(path, len(html))

    def embed(self):
        """The scene as it stands, for this cell's output: the model itself, drawn inside the
        output with no server where the notebook is trusted (reopened where it was saved,
        after "Trust Notebook", converted with `jupyter nbconvert --to html`), and, when a page
        is open, a PNG of its last frame, which shows everywhere else (a notebook someone sent
        you, `--sanitize-html`, a Markdown export, GitHub)."""
        png = None
        if self.status().subscribers:
            try:
                png = self.screenshot()
            except OcpNotebookError:
                png = None
        query = {"width": self.width, "height": int(self.height)}
        if png:
            # The script hides the PNG output before its own, and only that one.
            query["image"] = base64.b64encode(png).decode()[-64:]
        query = urllib.parse.urlencode(query)
        script = self.client.request("GET", f"/viewer/{self.id}/scene.js?{query}")
        return EmbeddedScene(self.id, script, png)

    def _scene_html(self, history=False):
        query = "?history=1" if history else ""
        return self.client.request("GET", f"/viewer/{self.id}/scene.html{query}")

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

    def history(self):
        """The versions the server keeps of this viewer (each `show` is one), oldest first."""
        return versions.history(self.client, self.id)

    def show_version(self, model_id):
        """Shows a kept version again on every page of the viewer (a `model_id` from
        `history()`, or a `Shown`'s `.model_id`)."""
        versions.show_version(self.client, self.id, model_id)

    def diff(self, earlier=None, later=None):
        """What changed, part by part, from version `earlier` (default: the one before `later`)
        to `later` (default: the one on screen)."""
        return versions.diff(self.client, self.id, earlier, later)

    def screenshot(self, timeout=20):
        """A PNG of what the viewer's page shows; a page must be open (the notebook's frame or a tab)."""
        png = self.client.request(
            "POST", f"/api/viewer/{self.id}/screenshot?timeout={timeout}", timeout=timeout + 10,
        )
        return PNG(png)

    def selection(self):
        """What the user picked in the page with the measure tools (the toolbar's distance,
        properties or angle button, then clicks), as `Pick(path, kind, index, id)`s: a part's
        path, "face" / "edge" / "vertex" / "solid", and the index in the part's `faces()`,
        `edges()` or `vertices()`."""
        return picks_of(self.client.get_json(f"/api/viewer/{self.id}/selection"))

    def picked_objects(self):
        """The build123d or CadQuery objects the user picked in the page, from the objects this
        viewer last showed: `Face`, `Edge`, `Vertex` or `Solid`, placed as shown (None for a
        pick on a mesh or a dict). A pick the objects do not have (face 99 of a box) is an
        `OcpNotebookError` naming it."""
        return [self._shapes.object(pick) for pick in self.selection()]

    def exact_measurements(self, on=True):
        """Answers the page's measure tools from the build123d / CadQuery objects this viewer
        shows, with OCCT's exact values, instead of from the mesh (a daemon thread polls the
        server while the kernel runs; the mesh answers whenever it does not in 5 s)."""
        if on and (self._answerer is None or not self._answerer.is_alive()):
            from .exact import Answerer

            self._answerer = Answerer(self)
            self._answerer.start()
        elif not on and self._answerer is not None:
            self._answerer.stop()
            self._answerer = None
            # Now, and again by the thread when its last poll returns.
            self.client.request("DELETE", f"/api/viewer/{self.id}/tool-requests")

    def measure(self, tool, picks):
        """What a measure tool shows for `picks` (`Pick`s or the renderer's names), computed by
        the server from the model on screen: `tool` "distance" (`distance`, `point1`,
        `point2`), "properties" (`area`, `length`, `volume`, `radius`, `center`, `bb`, ...) or
        "angle" (`angle`, in degrees)."""
        ids = [getattr(pick, "id", pick) for pick in picks]
        body = json.dumps({"tool": tool, "ids": ids}).encode()
        with _not_the_model():
            return self.client.post_json(f"/api/viewer/{self.id}/measure", body)

    def animate(self, tracks, duration=None, speed=1.0, repeat=True, autoplay=True):
        """Plays an animation on the model on screen, in every page showing the viewer, until
        the next model or `stop_animation()`. `tracks` are ocp_vscode's
        `(path, action, times, values)`: `path` a node of the tree ("/Group/arm"), `action`
        "t" ([x, y, z]), "tx" / "ty" / "tz" (a distance), "rx" / "ry" / "rz" (degrees) or
        "q" (a quaternion), one value per time in seconds. `duration` defaults to the last time;
        `repeat=False` plays back and forth."""
        body = {"tracks": [track(t) for t in tracks], "speed": speed, "repeat": repeat, "autoplay": autoplay}
        if duration is not None:
            body["duration"] = duration
        with _not_the_model():
            answer = self.client.post_json(f"/api/viewer/{self.id}/animation", json.dumps(body).encode())
        return answer["animation"]

    def stop_animation(self):
        """Stops the animation; the parts go back where the model puts them."""
        if self.status().model_id is not None:
            self.client.request("DELETE", f"/api/viewer/{self.id}/animation")

    def _send(self, viewer_options):
        start = time.perf_counter()
        if not self._scene:
            raise OcpNotebookError("nothing to show")
        scene = self._scene
        objs = [e.obj for e in scene]
        mappings = []
        message = to_message(
            objs, [e.name for e in scene], [e.color for e in scene], [e.alpha for e in scene],
            to_javascript(viewer_options), shapes=mappings,
        )
        converted = time.perf_counter()
        body = encode(message)
        answer = self.client.post_json(f"/api/model?viewer={self.id}", body)
        for entry, shown in zip(scene, top_level_names(message, objs)):
            entry.shown = shown
        self._shapes = ShapeIndex(mappings[0] if mappings else None, library_of(objs))
        self._model_id = answer["model_id"]
        if self._answerer is not None and self._answerer.is_alive():
            self._answerer.mark()
        shown = Shown(answer, converted - start, time.perf_counter() - converted)
        if self.embeds:
            # The push is done either way: a scene that cannot be fetched leaves the text line.
            try:
                shown.scene = self.embed()
            except OcpNotebookError as error:
                warnings.warn(f"the scene was not kept in the notebook: {error}", stacklevel=2)
                shown.scene = None
        return shown


class Grid:
    """Viewers side by side in one cell's output, from `grid`."""

    def __init__(self, viewers):
        self.viewers = list(viewers)

    def _repr_html_(self):
        return grid_html([viewer._repr_html_() for viewer in self.viewers])

    def __repr__(self):
        return "\n".join(repr(viewer) for viewer in self.viewers)


def grid(*viewers):
    """Shows viewers side by side, to compare variants: `grid(plain, filleted)` as a cell's
    last line. (Each `Viewer()` shows itself under its cell as it is made, one under another.)"""
    return Grid(viewers)


class _Entry:
    """One object of the scene `show` / `add` built: what was given, and the name the viewer's
    tree shows for it (known once sent)."""

    __slots__ = ("obj", "name", "color", "alpha", "shown")

    def __init__(self, obj, name, color, alpha):
        self.obj, self.name, self.color, self.alpha, self.shown = obj, name, color, alpha, None


@contextlib.contextmanager
def _not_the_model():
    """A request's invalid field is not the model's: say it as the server said it."""
    try:
        yield
    except InvalidModel as err:
        raise ServerError(err.status, err.code, err.message, err.path) from None


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
