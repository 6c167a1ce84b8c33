"""The build123d models web/bench/big-model.mjs measures, written as the ocp_vscode message the
Python bridge sends:

- `plate`: one edge-heavy solid, an 80 x 80 plate carrying 19 x 19 filleted, bored bosses, finely
  tessellated: 1,811 faces, 3,622 edges, 1.27 M triangles, 49 MB (#25's model class).
- `pins`: an assembly of 122 parts, 11 x 11 filleted pins of different radii on a plate: about
  1.0 M triangles, 35 MB (#15's).

    target/venv/bin/python web/bench/cad_models.py plate|pins OUT.json

Each takes a minute or two on two cores. Needs the project's Python test environment (build123d,
ocp-tessellate), which `tests/run` makes; big-model.mjs runs this when it is given `plate` or
`pins` and keeps the result in target/bench.
"""

import json
import sys

from build123d import Axis, Box, Cylinder, GeomType, Pos, fillet

from ocp_notebook.convert import to_message

# ocp_vscode's default colour, which web/bench/vs-ocp-viewer.mjs looks for on both pages.
GOLD = "#e8b024"


def plate(per_side=19):
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
    return to_message(
        [body], names=["plate"], colors=[GOLD],
        config={"deviation": 0.05, "angular_tolerance": 0.23},
    )


def pins(per_side=11):
    parts, names = [Box(110, 110, 4)], ["base"]
    for i in range(per_side):
        for j in range(per_side):
            radius = 1.5 + 2.5 * ((i * per_side + j) % 7) / 6
            pin = Cylinder(radius, 20)
            pin = fillet(pin.edges().filter_by_position(Axis.Z, 9.9, 10.1), radius * 0.4)
            parts.append(Pos(-50 + 10 * i, -50 + 10 * j, 12) * pin)
            names.append(f"pin_{i}_{j}")
    return to_message(
        parts, names=names, colors=[GOLD] * len(parts),
        config={"deviation": 0.014, "angular_tolerance": 0.18},
    )


def main():
    kind, out = sys.argv[1], sys.argv[2]
    message = {"plate": plate, "pins": pins}[kind]()
    with open(out, "w") as file:
        json.dump(message, file, separators=(",", ":"))


if __name__ == "__main__":
    main()
