"""The README's "API access" examples, run as written against a live server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import factories
from webapp.extensions import db
from webapp.models import IdempotencyKey

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
HANDLE = re.compile(r"[A-Za-z0-9_-]{22,}")


def api_access_blocks() -> list[tuple[str, str]]:
    """(language, code) of each fenced block in the README's "API access" section."""
    text = README.read_text()
    match = re.search(r"^## API access\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## API access' section"
    return FENCE.findall(match.group(1))


def curl_example() -> str:
    blocks = [code for lang, code in api_access_blocks() if lang == "sh" and code[:4] == "curl"]
    assert len(blocks) == 1, blocks
    return blocks[0]


def python_example() -> str:
    blocks = [code for lang, code in api_access_blocks() if lang == "python"]
    assert len(blocks) == 1, blocks
    return blocks[0]


@pytest.fixture
def run_example(server):
    base, token, _ = server
    env = {**os.environ, "BASE": base, "TOKEN": token}

    def run(argv: list[str]) -> str:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


def test_blocks_are_found():
    assert "Idempotency-Key" in curl_example()
    assert "requests.post" in python_example()


def test_curl_example_creates_a_share(server, run_example):
    _, _, app = server
    output = run_example(["bash", "-c", curl_example()])
    share = json.loads(output)["data"]
    print(f"\ncurl example created share {share['id']} with handle {share['handle']}")
    assert HANDLE.fullmatch(share["handle"])
    assert share["profile_id"] == "cust-1" and share["source"] == {"type": "reward", "id": 42}
    assert (share["period"], share["period_type"]) == (2, "weeks")
    assert share["timezone"] == "Australia/Melbourne" and share["expires_at"].endswith("Z")
    [row] = factories.stored_shares(app)
    assert row.handle == share["handle"]
    # Run again: the same key and body answer with the same share.
    again = json.loads(run_example(["bash", "-c", curl_example()]))["data"]
    assert again == share
    assert len(factories.stored_shares(app)) == 1


def test_python_example_prints_the_handle(server, run_example):
    _, _, app = server
    handle = run_example([sys.executable, "-c", python_example()]).strip()
    print(f"\npython example printed handle {handle}")
    assert HANDLE.fullmatch(handle)
    [row] = factories.stored_shares(app)
    assert row.handle == handle and row.profile_id == "cust-1" and row.source_id == 42
    assert run_example([sys.executable, "-c", python_example()]).strip() == handle
    assert len(factories.stored_shares(app)) == 1


def test_both_examples_send_the_same_request(server, run_example):
    """Same key, same body: whichever runs first makes the share the other one gets back."""
    _, _, app = server
    from_curl = json.loads(run_example(["bash", "-c", curl_example()]))["data"]["handle"]
    from_python = run_example([sys.executable, "-c", python_example()]).strip()
    assert from_python == from_curl
    assert [row.handle for row in factories.stored_shares(app)] == [from_curl]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(IdempotencyKey.id))) == 1
