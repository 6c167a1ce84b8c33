"""ocp_vscode's `show()` drawing into an ocp_notebook viewer.

ocp_vscode builds its messages in ocp-viewer-core and hands them to a transport, a `Comms`
(`ocp_viewer_core.comms.Comms`). `HttpComms` is one that talks HTTP to this server, and
`use_ocp_vscode()` puts it under ocp_vscode, so existing code keeps working:

    import ocp_notebook
    viewer = ocp_notebook.use_ocp_vscode()   # the one-line switch; shows the viewer here
    from ocp_vscode import show, show_object, set_viewer_config, status, save_screenshot
    show(box, colors=["steelblue"])          # tessellated by ocp_vscode, drawn in `viewer`
    # ocp_vscode's `Animation(...)`, `add_track(...)`, `animate(speed)` play in `viewer` too.
"""

import importlib
import json

from .viewer import Viewer


def _comms_base():
    try:
        from ocp_viewer_core.comms import Comms
    except ImportError:
        raise ImportError("use_ocp_vscode() needs ocp_vscode (pip install ocp_vscode)") from None
    return Comms


def _dumps(data):
    """JSON as ocp_vscode's own client writes it: orjson with numpy, and ocp-viewer-core's
    encoder for enums and OCCT objects."""
    from ocp_viewer_core.codec import default

    try:
        import orjson
    except ImportError:
        return json.dumps(data, default=lambda o: o.tolist() if hasattr(o, "tolist") else default(o)).encode()
    return orjson.dumps(data, default=default, option=orjson.OPT_SERIALIZE_NUMPY)


def http_comms(viewer):
    """A `Comms` sending to `viewer` over HTTP (a class made on first use, so that importing
    ocp_notebook never needs ocp_vscode)."""

    class HttpComms(_comms_base()):
        def __init__(self):
            super().__init__()
            self.viewer = viewer

        def send_data(self, data, timeit=False):
            if isinstance(data, dict) and data.get("type") == "animation":
                # ocp_vscode's `Animation(...).animate(speed)`: its tracks and speed.
                speed = (data.get("config") or {}).get("speed", 1)
                self.viewer.animate(data["data"], speed=speed)
                return
            client = self.viewer.client
            client.post_json(f"/api/model?viewer={self.viewer.id}", _dumps(data))

        def send_config(self, config, timeit=False):
            # `{"type": "ui", "config": {...}}`: live settings.
            settings = config.get("config", config) if isinstance(config, dict) else {}
            self.viewer.client.post_json(f"/api/viewer/{self.viewer.id}/config", _dumps(settings))

        def send_command(self, data, timeit=False):
            if isinstance(data, dict) and data.get("type") == "screenshot":
                png = self.viewer.screenshot()
                filename = data.get("filename") or f"{self.viewer.id}.png"
                png.save(filename)
                return {}
            if data == "status":
                return self.status()
            if data == "config":
                return self.workspace_config()
            return {}

        def status(self):
            answer = self.viewer.status()
            # `_splash` is true while nothing was shown (ocp_vscode then resets the camera).
            return {**answer, "_splash": answer.model_id is None}

        def workspace_config(self):
            return {"_splash": self.viewer.status().model_id is None}

        def send_backend(self, data, timeit=False):
            # The measurement backend needs a live channel back to Python; there is none here.
            return None

    return HttpComms()


def use_ocp_vscode(viewer=None, **viewer_options):
    """From now on, ocp_vscode's `show()` family (and `status`, `set_viewer_config`,
    `save_screenshot`) draws into `viewer`, or into a new `Viewer(**viewer_options)` shown under
    this cell. Answers the viewer."""
    # The modules, not the package's attributes: `ocp_vscode.show` is the function.
    config = importlib.import_module("ocp_vscode.config")
    show = importlib.import_module("ocp_vscode.show")

    viewer = viewer or Viewer(**viewer_options)
    comms = http_comms(viewer)
    config.session.comms = comms
    show.viewer.comms = comms
    return viewer


__all__ = ["http_comms", "use_ocp_vscode"]
