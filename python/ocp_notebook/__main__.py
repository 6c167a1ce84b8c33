"""`python -m ocp_notebook [ARGS]`: runs the `ocp-notebook` server this package starts, with
ARGS (`--help` lists them), for an environment whose scripts folder is not on PATH."""

import os
import subprocess
import sys

from .server import binary


def main():
    path = binary()
    try:
        if os.name == "posix":
            os.execvp(path, [path, *sys.argv[1:]])
        sys.exit(subprocess.call([path, *sys.argv[1:]]))
    except OSError as error:
        sys.exit(
            f"ocp_notebook: cannot run {path} ({error}); this package's wheel brings the server, "
            "or set OCP_NOTEBOOK_BIN to an ocp-notebook binary"
        )


if __name__ == "__main__":
    main()
