"""A viewer's versions: every `show` is one. The server keeps the last `--history` of them, each
part once; these read them, say what changed between two, and put one back on screen."""

import json
import urllib.parse

# What happened to a part between two versions, as the server's diff names it.
KINDS = ("added", "removed", "changed", "moved", "restyled", "unchanged")


def count(n, thing):
    """`1 part`, `2 parts`: what the summaries print (the rule in tests/fixtures/rules.json)."""
    return f"{n} {thing}{'' if n == 1 else 's'}"


class History(list):
    """The kept versions, oldest first: dicts with `model_id`, `created`, `parts`, `triangles`,
    `bytes` and `new_bytes` (what the version added to the server's memory). `shown` is the
    version on screen."""

    def __init__(self, answer):
        super().__init__(answer["versions"])
        self.viewer_id = answer["viewer_id"]
        self.shown = answer.get("model_id")
        self.limit = answer.get("limit")

    def __repr__(self):
        lines = [f"viewer {self.viewer_id}: {count(len(self), 'version')} kept (of at most {self.limit})"]
        for n, version in enumerate(self, 1):
            mark = "▶" if version["model_id"] == self.shown else " "
            lines.append(
                f"{mark} {n:>3}. {version['created']} {version['model_id']}: "
                f"{count(version['parts'], 'part')}, {count(version['triangles'], 'triangle')}, "
                f"{version['new_bytes'] / 1000:.1f} KB new"
            )
        return "\n".join(lines)


class Diff(dict):
    """Part paths by what happened to them from version `earlier` to `later`: `added`, `removed`,
    `changed` (the mesh), `moved` (the placement alone), `restyled` (colour or alpha alone) and
    `unchanged`."""

    def __init__(self, answer):
        super().__init__({kind: answer.get(kind, []) for kind in KINDS})
        self.earlier = answer.get("from")
        self.later = answer.get("to")

    def __repr__(self):
        lines = [f"from {self.earlier or 'nothing'} to {self.later}:"]
        lines += [f"  {kind}: {', '.join(self[kind])}" for kind in KINDS[:-1] if self[kind]]
        if len(lines) == 1:
            lines.append("  nothing changed")
        lines.append(f"  unchanged: {count(len(self['unchanged']), 'part')}")
        return "\n".join(lines)


def history(client, viewer_id):
    return History(client.get_json(f"/api/viewer/{viewer_id}/history"))


def diff(client, viewer_id, earlier=None, later=None):
    query = {name: value for name, value in (("from", earlier), ("to", later)) if value}
    return Diff(client.get_json(f"/api/viewer/{viewer_id}/diff?{urllib.parse.urlencode(query)}"))


def show_version(client, viewer_id, model_id):
    client.post_json(f"/api/viewer/{viewer_id}/show", json.dumps({"model_id": model_id}).encode())
