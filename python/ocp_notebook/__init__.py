"""ocp_notebook for Python: build123d / CadQuery models in a live viewer inside Jupyter.

    from ocp_notebook import Viewer
    viewer = Viewer()                      # shows a viewer under this cell
    viewer.show(part, colors=["steelblue"])

Layout: `viewer` (Viewer, what show/status/screenshot answer), `convert` (objects to the model
format: dicts, meshes, CAD through ocp-tessellate), `server` (finding or starting the server),
`client` (HTTP, errors), `version` (the version, and the wheel this copy came from), `frame`
(where the iframe points), `tools` (picks, measurements, animations), `vscode` (ocp_vscode's
show() into this viewer), `errors`.
"""

from .convert import Mesh
from .errors import (
    InvalidModel,
    NoPage,
    OcpNotebookError,
    ServerError,
    ServerStartError,
    ServerUnreachable,
    ViewerClosed,
)
from .tools import Pick
from .version import VERSION
from .viewer import PNG, EmbeddedScene, Grid, SavedScene, Shown, Status, Viewer, grid
from .vscode import use_ocp_vscode

__version__ = VERSION

__all__ = [
    "EmbeddedScene",
    "Grid",
    "InvalidModel",
    "Mesh",
    "NoPage",
    "OcpNotebookError",
    "PNG",
    "Pick",
    "SavedScene",
    "ServerError",
    "ServerStartError",
    "ServerUnreachable",
    "Shown",
    "Status",
    "Viewer",
    "ViewerClosed",
    "grid",
    "use_ocp_vscode",
]
