"""The wire contract and the rules the Python bridge shares with the Rust one, read from the
fixtures both bridges' tests use (tests/fixtures/wire.json, generated from the server's
src/wire.rs, and tests/fixtures/rules.json)."""

import json
from pathlib import Path

import pytest

from ocp_notebook import errors
from ocp_notebook.convert import _unique
from ocp_notebook.frame import frame_url, page_path
from ocp_notebook.history import Diff, History
from ocp_notebook.viewer import valid_id

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
WIRE = json.loads((FIXTURES / "wire.json").read_text())
RULES = json.loads((FIXTURES / "rules.json").read_text())
LISTED = {entry["code"]: entry["status"] for entry in WIRE["error_codes"]}


def test_every_code_the_bridge_tells_apart_is_one_the_server_sends():
    matched = (*errors.MODEL_CODES, *errors.VIEWER_GONE_CODES, errors.NO_PAGE_CODE)
    assert set(matched) <= set(LISTED), set(matched) - set(LISTED)


@pytest.mark.parametrize("code", sorted(LISTED))
def test_every_listed_code_becomes_an_exception_that_names_it(code):
    status = LISTED[code] or 500
    body = json.dumps({"error": {"code": code, "message": "m", "path": "$.x"}}).encode()
    err = errors.from_answer(status, body)
    assert isinstance(err, errors.ServerError) and err.code == code
    expected = {
        **{c: errors.InvalidModel for c in errors.MODEL_CODES},
        **{c: errors.ViewerClosed for c in errors.VIEWER_GONE_CODES},
        errors.NO_PAGE_CODE: errors.NoPage,
    }.get(code, errors.ServerError)
    assert type(err) is expected


def test_ids_follow_the_servers_rule():
    for id in RULES["ids"]["valid"]:
        assert valid_id(id), id
    for id in RULES["ids"]["invalid"]:
        assert not valid_id(id), id
    assert not valid_id(None) and not valid_id(7)


@pytest.mark.parametrize("case", RULES["page_paths"], ids=lambda c: c["path"])
def test_page_paths(case):
    assert page_path(case["viewer"], **case["options"]) == case["path"]


@pytest.mark.parametrize("case", RULES["frame_urls"], ids=lambda c: c["url"])
def test_frame_urls(case):
    assert frame_url(case["server"], case["path"], environ=case["env"]) == case["url"]


@pytest.mark.parametrize("case", RULES["unique_names"], ids=lambda c: ",".join(c["names"]))
def test_unique_names(case):
    taken = set()
    assert [_unique(name, taken) for name in case["names"]] == case["unique"]


@pytest.mark.parametrize("case", RULES["summaries"]["history"])
def test_a_history_prints_what_the_bridges_agree_on(case):
    assert repr(History(case["answer"])) == case["text"]


@pytest.mark.parametrize("case", RULES["summaries"]["diff"])
def test_a_diff_prints_what_the_bridges_agree_on(case):
    assert repr(Diff(case["answer"])) == case["text"]
