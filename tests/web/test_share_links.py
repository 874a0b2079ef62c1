"""Share links (issue 19): with WEBAPP_SHARE_LINK_TEMPLATE set, a share's page shows the
customer's link with a copy button and a QR code, and the list offers it to copy; copy buttons
for handle, code and id on both."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests import factories
from tests.conftest import TEST_SECRET
from webapp import create_app, sharelinks

TEMPLATE = "https://shop.example.com/s/{handle}"


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def linked(app):
    app.config["SHARE_LINK_TEMPLATE"] = TEMPLATE
    return app


def test_a_share_page_shows_its_link_to_copy_and_its_qr_code(linked, client):
    share_id = factories.share(linked, code="WELCOME")
    handle = factories.handle_of(linked, share_id)
    link = f"https://shop.example.com/s/{handle}"

    page = text(client.get(f"/shares/{share_id}"))

    section = re.search(r'<section class="share-link".*?</section>', page, re.S)[0]
    assert f'<input id="customer-link" value="{link}" readonly>' in section
    assert 'data-copy-target="customer-link" data-copy-what="Link">Copy link</button>' in section
    assert f'href="{link}" rel="noopener noreferrer"' in section
    qr = re.search(
        r'<div class="qr" role="img" aria-label="([^"]+)">(<svg.*?</svg>)</div>', section
    )
    assert qr and qr[1] == f"QR code of the customer link {link}"
    ET.fromstring(qr[2])  # well-formed SVG, drawn by segno
    assert "<path" in qr[2] and "<script" not in qr[2]
    assert f'href="/shares/{share_id}/qr.svg" download' in section


def test_every_value_of_a_share_has_its_own_copy_button(linked, client):
    share_id = factories.share(linked, code="WELCOME")
    handle = factories.handle_of(linked, share_id)

    page = text(client.get(f"/shares/{share_id}"))

    buttons = dict(re.findall(r'data-copy-what="(\w+)">([^<]+)</button>', page))
    assert buttons == {
        "Handle": "Copy handle",
        "Code": "Copy code",
        "ID": "Copy ID",
        "Link": "Copy link",
    }
    assert 'data-copy="WELCOME" data-copy-what="Code"' in page
    assert f'data-copy="{share_id}" data-copy-what="ID"' in page
    assert f'<input id="share-handle" value="{handle}" readonly>' in page


def test_the_list_offers_each_value_to_copy(linked, client):
    with_code = factories.share(linked, code="C-1")
    without = factories.share(linked, code=None)

    page = text(client.get("/shares"))

    menus = re.findall(r'<details class="copy-menu">(.*?)</details>', page, re.S)
    assert len(menus) == 2
    newest, oldest = menus
    for menu, share_id, code in ((newest, without, None), (oldest, with_code, "C-1")):
        handle = factories.handle_of(linked, share_id)
        values = dict(re.findall(r'data-copy="([^"]+)" data-copy-what="(\w+)"', menu))
        expected = {handle: "Handle", str(share_id): "ID", TEMPLATE.format(handle=handle): "Link"}
        if code:
            expected[code] = "Code"
        assert values == expected


def test_the_qr_code_downloads_as_an_svg_file(linked, client):
    share_id = factories.share(linked)
    handle = factories.handle_of(linked, share_id)

    response = client.get(f"/shares/{share_id}/qr.svg")

    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="share-{handle}-qr.svg"'
    )
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert b"<script" not in response.data


def test_without_a_template_there_is_no_link_and_no_qr_code(app, client):
    share_id = factories.share(app, code="WELCOME")

    page = text(client.get(f"/shares/{share_id}"))
    listing = text(client.get("/shares"))

    assert "Customer link" not in page and 'class="qr"' not in page
    assert 'data-copy-what="Link"' not in page + listing
    assert 'data-copy-what="Code"' in page  # the other values still copy
    assert client.get(f"/shares/{share_id}/qr.svg").status_code == 404


def test_a_handle_goes_into_the_link_quoted_whatever_it_holds(linked):
    with linked.test_request_context():
        assert sharelinks.link("a/b c?") == "https://shop.example.com/s/a%2Fb%20c%3F"
        linked.config["SHARE_LINK_TEMPLATE"] = "https://x.example/?s={handle}&src=desk"
        assert sharelinks.link("abc") == "https://x.example/?s=abc&src=desk"


def test_a_link_in_the_page_is_escaped(linked, client):
    linked.config["SHARE_LINK_TEMPLATE"] = 'https://shop.example.com/s/{handle}?a="<b>'
    share_id = factories.share(linked)
    page = text(client.get(f"/shares/{share_id}"))
    assert '"<b>' not in page
    assert "?a=&#34;&lt;b&gt;" in page


@pytest.mark.parametrize(
    "template",
    ["https://shop.example.com/s/", "ftp://shop.example.com/{handle}", "/s/{handle}", "{handle}"],
)
def test_a_template_that_cannot_make_a_link_stops_the_app_at_start(tmp_path, template):
    with pytest.raises(RuntimeError, match="SHARE_LINK_TEMPLATE"):
        create_app(
            {
                "TESTING": True,
                "SECRET_KEY": TEST_SECRET,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                "SHARE_LINK_TEMPLATE": template,
            }
        )
