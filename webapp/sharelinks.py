"""The link a customer opens to claim a share, and its QR code.

``WEBAPP_SHARE_LINK_TEMPLATE`` (``https://shop.example.com/s/{handle}``) says where the shop
serves shares; without it, pages show no link. The QR code is an SVG drawn by ``segno``.
"""

from __future__ import annotations

import io
from urllib.parse import quote, urlsplit

import segno
from flask import current_app
from markupsafe import Markup

PLACEHOLDER = "{handle}"


def check_template(template) -> None:
    """Refuse, at start-up, a template that could not make a working link (empty: no links)."""
    if not template:
        return
    text = str(template)
    parts = urlsplit(text.replace(PLACEHOLDER, "x"))
    if PLACEHOLDER not in text or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"SHARE_LINK_TEMPLATE {template!r} must be an http(s) URL with {PLACEHOLDER} in it, "
            "such as https://shop.example.com/s/{handle} (set WEBAPP_SHARE_LINK_TEMPLATE)."
        )


def link(handle: str) -> str | None:
    """The customer link of the share with ``handle``, or None when no template is set."""
    template = current_app.config["SHARE_LINK_TEMPLATE"]
    if not template:
        return None
    # Handles are URL-safe already; quoting keeps the link whole whatever a handle holds.
    return template.replace(PLACEHOLDER, quote(handle, safe=""))


def qr_svg(text: str) -> Markup:
    """A QR code of ``text`` as an SVG element: dark on light, with the quiet zone readers need,
    sized by its container (segno writes nothing but geometry into it)."""
    code = segno.make(text, error="m")
    return Markup(code.svg_inline(border=4, omitsize=True, dark="#000000", light="#ffffff"))


def qr_file(text: str) -> bytes:
    """The same QR code as a standalone SVG file, 10 pixels a module, for printing."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=10, border=4)
    return out.getvalue()
