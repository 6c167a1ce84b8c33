"""show() through this bridge versus ocp_vscode's show() into `python -m ocp_viewer`, same objects,
same run, with tessellation timed apart from transport.

    OCP_NOTEBOOK_BIN=target/release/ocp-notebook target/venv/bin/python python/bench/show_bench.py [--runs 5]

Needs build123d, ocp-tessellate, ocp_vscode and ocp_viewer (all from PyPI) in the interpreter.
Each side runs in a process of its own (ocp_vscode keeps module-level state). Objects: the
filleted bracket of the Python quickstart, and 500 spheres (about 1 M triangles). Both sides
tessellate with ocp-tessellate at ocp_vscode's default quality; `tessellate` is ocp-tessellate
plus the base64 buffers (for ocp_vscode: everything but sending), `transport` encoding the JSON
and every request of the `show()` (ocp_vscode's status and config reads included) up to the
server's answer. The first run of each warms ocp-tessellate's cache: its tessellation is shown
apart, as "cold", and it is not in the medians. No browser page is open: ocp_viewer drops a
model that no page shows; this server validates and stores it, and announces it.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

MODELS = ("bracket", "spheres")


def build(model):
    from build123d import Align, Axis, Box, Compound, Cylinder, Pos, Rot, Sphere, fillet

    if model == "bracket":
        bracket = Box(60, 30, 8, align=(Align.MIN, Align.CENTER, Align.MIN)) + Box(
            8, 30, 50, align=(Align.MIN, Align.CENTER, Align.MIN)
        )
        inner = bracket.edges().filter_by(Axis.Y).filter_by_position(Axis.X, 7.9, 8.1)
        bracket = fillet(inner.filter_by_position(Axis.Z, 7.9, 8.1), radius=6)
        bracket -= Pos(38, 0, 0) * Cylinder(4, 20)
        bracket -= Pos(0, 0, 34) * Rot(0, 90, 0) * Cylinder(4, 20)
        return fillet(bracket.edges().filter_by(Axis.Z).group_by(Axis.X)[-1], radius=5)
    # Distinct radii, so nothing is instanced: about 1 M triangles.
    return Compound([Pos(i % 25 * 30, i // 25 * 30, 0) * Sphere(10 + i * 0.01) for i in range(500)])


def side_ours(model, runs, url):
    from ocp_notebook import Viewer

    viewer = Viewer(server=url, display=False)
    obj = build(model)
    out = {"tessellate": [], "transport": [], "total": [], "triangles": 0}
    for run in range(runs + 1):
        start = time.perf_counter()
        shown = viewer.show(obj, names=[model])
        total = time.perf_counter() - start
        if not run:
            out["cold"] = shown.convert_seconds
        if run:
            out["tessellate"].append(shown.convert_seconds)
            out["transport"].append(shown.upload_seconds)
            out["total"].append(total)
        out["triangles"] = shown.triangles
    return out


def side_vscode(model, runs, port):
    import ocp_vscode
    from ocp_vscode.comms import comms

    ocp_vscode.set_port(port)
    # Every message of a show() (status and config reads, the model) goes through `_send`:
    # encoding, a websocket connection per message, the send.
    sending = [0.0]
    send = comms._send

    def timed_send(*args, **kwargs):
        start = time.perf_counter()
        try:
            return send(*args, **kwargs)
        finally:
            sending[0] += time.perf_counter() - start

    comms._send = timed_send
    obj = build(model)
    out = {"tessellate": [], "transport": [], "total": [], "triangles": 0}
    for run in range(runs + 1):
        sending[0] = 0.0
        start = time.perf_counter()
        ocp_vscode.show(obj, names=[model])
        total = time.perf_counter() - start
        if not run:
            out["cold"] = total - sending[0]
        if run:
            out["tessellate"].append(total - sending[0])
            out["transport"].append(sending[0])
            out["total"].append(total)
    message, _ = ocp_vscode.show.__self__._convert(obj, names=[model])
    out["triangles"] = sum(i["triangles"]["shape"][0] // 3 for i in message["data"]["instances"])
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port} after {timeout} s")


def run_side(side, model, runs, target):
    answer = subprocess.run(
        [sys.executable, __file__, "--side", side, "--model", model, "--runs", str(runs), "--target", target],
        capture_output=True, text=True, check=True,
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--side", choices=("ours", "vscode"))
    parser.add_argument("--model", choices=MODELS)
    parser.add_argument("--target")
    args = parser.parse_args()
    if args.side == "ours":
        print(json.dumps(side_ours(args.model, args.runs, args.target)))
        return
    if args.side == "vscode":
        print(json.dumps(side_vscode(args.model, args.runs, int(args.target))))
        return

    from ocp_notebook import server

    url = server.start_child(server.binary())
    port = free_port()
    ocp_viewer = subprocess.Popen(
        [sys.executable, "-m", "ocp_viewer", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        median = lambda values: statistics.median(values) * 1000  # noqa: E731
        print(f"show(), ms: first tessellation (cold cache); then the median of {args.runs} runs: "
              "tessellate / transport / total")
        print("| model | triangles | ocp_notebook | ocp_vscode -> ocp_viewer | transport ratio |")
        print("|---|---|---|---|---|")
        for model in MODELS:
            ours = run_side("ours", model, args.runs, url)
            theirs = run_side("vscode", model, args.runs, str(port))
            cells = [
                f"cold {r['cold'] * 1000:.0f}; {median(r['tessellate']):.1f} / "
                f"{median(r['transport']):.1f} / {median(r['total']):.1f}"
                for r in (ours, theirs)
            ]
            ratio = median(theirs["transport"]) / max(median(ours["transport"]), 1e-3)
            print(f"| {model} | {ours['triangles']:,} | {cells[0]} | {cells[1]} | {ratio:.1f}x |", flush=True)
    finally:
        ocp_viewer.kill()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
