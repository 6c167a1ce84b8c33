"""A real `ocp-notebook` server on loopback for the tests (the binary from OCP_NOTEBOOK_BIN,
which `cargo test` sets), and a clean environment around each test."""

import json
import os
import urllib.request

import pytest

from ocp_notebook import server as servers


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in (servers.URL_VAR, servers.TOKEN_VAR, "OCP_NOTEBOOK_FRAME_URL", "JUPYTERHUB_SERVICE_PREFIX"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def binary():
    path = os.environ.get(servers.BIN_VAR)
    if not path:
        pytest.fail("OCP_NOTEBOOK_BIN must name the ocp-notebook binary (cargo test sets it)")
    return path


@pytest.fixture(scope="session")
def server_url(binary):
    return servers.start_child(binary)


def get_json(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def leaves(node):
    """The leaf parts of a stored shapes tree, in order."""
    if "parts" in node:
        return [leaf for part in node["parts"] for leaf in leaves(part)]
    return [node]


def leaf_names(node):
    return [leaf["name"] for leaf in leaves(node)]
