"""The bench's floor page (bench/baseline_app.py) renders the app's own base.html: a link or
global added to base.html must not leave the floor answering 500 (make bench would say so only
when it runs)."""

from __future__ import annotations

import re
import sqlite3

from bench import baseline_app


def test_the_floor_page_renders_base_html_with_its_fifteen_rows(tmp_path, monkeypatch):
    # A database of its own: the page reads none, and the floor app's engine keeps its
    # connection open as a server would.
    database = tmp_path / "floor.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE shares (id INTEGER PRIMARY KEY)")
    monkeypatch.setenv("BENCH_DATABASE_URL", f"sqlite:///{database}")
    floor = baseline_app.create_app()

    response = floor.test_client().get("/page")

    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    page = response.get_data(as_text=True)
    assert len(re.findall(r"<tr>", page.split("<tbody>", 1)[1])) == 15
    assert "bench@example.com" in page  # the signed-in header of base.html
    assert re.search(r"app;dur=\d+\.\d+", response.headers["Server-Timing"])
