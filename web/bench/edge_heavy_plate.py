"""An edge-heavy build123d solid for web/bench/big-model.mjs: an 80 x 80 plate carrying a grid of
filleted, bored bosses (19 x 19), finely tessellated, written as the ocp_vscode message the Python
bridge sends. With the defaults: 1,811 faces, 3,622 edges, 1.27 M triangles, 49 MB, in about two
minutes on two cores; the model class #25 measures its first frame on.

    target/venv/bin/python web/bench/edge_heavy_plate.py OUT.json [BOSSES_PER_SIDE] [DEVIATION] [ANGLE]

Needs the project's Python test environment (build123d, ocp-tessellate), which `tests/run` makes.
"""

import json
import sys

from build123d import Axis, Box, Cylinder, GeomType, Pos, fillet

from ocp_notebook.convert import to_message


def plate(per_side):
    body = Box(80, 80, 6)
    pitch = 80 / per_side
    for i in range(per_side):
        for j in range(per_side):
            x, y = -40 + pitch * (i + 0.5), -40 + pitch * (j + 0.5)
            body += Pos(x, y, 7) * Cylinder(pitch * 0.3, 8)
    # Round every boss where it meets the plate and at its top, then bore it through.
    tops = body.edges().filter_by_position(Axis.Z, 10.9, 11.1).filter_by(GeomType.CIRCLE)
    body = fillet(tops, pitch * 0.08)
    feet = body.edges().filter_by_position(Axis.Z, 2.9, 3.1).filter_by(GeomType.CIRCLE)
    body = fillet(feet, pitch * 0.08)
    for i in range(per_side):
        for j in range(per_side):
            x, y = -40 + pitch * (i + 0.5), -40 + pitch * (j + 0.5)
            body -= Pos(x, y, 5) * Cylinder(pitch * 0.12, 20)
    return body


def main():
    out = sys.argv[1]
    per_side = int(sys.argv[2]) if len(sys.argv) > 2 else 19
    deviation = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
    angle = float(sys.argv[4]) if len(sys.argv) > 4 else 0.23
    part = plate(per_side)
    message = to_message(
        [part], names=["plate"], colors=["#4682b4"],
        config={"deviation": deviation, "angular_tolerance": angle},
    )
    with open(out, "w") as file:
        json.dump(message, file, separators=(",", ":"))
    print(f"{out}: {len(part.faces())} faces, {len(part.edges())} edges")


if __name__ == "__main__":
    main()
