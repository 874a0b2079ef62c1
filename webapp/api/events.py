"""The events feed: every change to a share, in the order it was committed."""

from __future__ import annotations

from flask import request, url_for

from ..auth import requires
from ..enums import Role
from ..errors import validation_error
from ..forms.filters import EventFilterForm
from ..listing import fetch_events
from .base import bp


@bp.get("/events")
@requires(Role.VIEWER)
def list_events():
    """Events after ``page[after]``, oldest first. ``links.next`` is always where to ask next:
    a script that keeps the last id it saw misses nothing and sees nothing twice."""
    form = EventFilterForm(request.args)
    if not form.validate():
        raise validation_error(form.param_errors())
    feed = fetch_events(form)
    args = {k: v for k, v in form.given_args().items() if k != "page[after]"}
    following = url_for(
        "api.list_events", _external=True, **args, **{"page[after]": feed.next_after}
    )
    return {
        "data": [event.to_dict() for event in feed.events],
        "links": {"next": following},
        "meta": {"has_more": feed.has_more},
    }
