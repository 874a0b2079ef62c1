"""The JSON API under /api/v3: Omneo's six share routes (``shares``), the desk's claims and
claim check (``claims``) and its events feed (``events``), on one blueprint (``base``)."""

from . import claims, events, shares
from .base import bp

__all__ = ["bp", "claims", "events", "shares"]
