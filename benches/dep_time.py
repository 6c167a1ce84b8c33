"""How long a notebook's `:dep ocp_notebook` takes in a real evcxr kernel: cold (an empty evcxr
cache, as on a fresh machine with the crates downloaded) and again with evcxr's cache.

    target/venv/bin/python benches/dep_time.py [CRATE_PATH] [LABEL] [", default-features = false"]

Prints one line: the `:dep` cell's seconds cold and cached, and the next cell's (which makes a
viewer: the kernel-side server starts there in full mode). Needs evcxr_jupyter (`tests/run`
installs it) and, in light mode, `OCP_NOTEBOOK_BIN` or `OCP_NOTEBOOK_URL`.
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run_once(crate, features, cache):
    config = Path(tempfile.mkdtemp(prefix="evcxr-config-"))
    (config / "init.evcxr").write_text(":cache 4000\n")
    os.environ["EVCXR_CONFIG_DIR"] = str(config)
    os.environ["XDG_CACHE_HOME"] = cache  # evcxr keeps its cache of compiled crates there
    cells = [
        f':dep ocp_notebook = {{ path = "{crate}"{features} }}',
        "use ocp_notebook::notebook::Viewer;\nViewer::builder().display(false).build()?.id()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(nb, kernel_name="rust", timeout=1800, startup_timeout=120)
    times = []
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            start = time.time()
            client.execute_cell(cell, index)
            times.append(time.time() - start)
            for output in cell.outputs:
                if output.output_type == "error":
                    raise SystemExit(f"{crate}: cell {index} failed: {output.evalue}")
    shutil.rmtree(config)
    return times


def main():
    crate = sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parent.parent)
    label = sys.argv[2] if len(sys.argv) > 2 else "full"
    features = sys.argv[3] if len(sys.argv) > 3 else ""
    cache = tempfile.mkdtemp(prefix="evcxr-cache-")
    try:
        cold = run_once(crate, features, cache)
        cached = run_once(crate, features, cache)
    finally:
        shutil.rmtree(cache)
    print(f"{label}: cold :dep {cold[0]:.1f} s (next cell {cold[1]:.1f} s); "
          f"cached :dep {cached[0]:.1f} s", flush=True)


if __name__ == "__main__":
    main()
