"""The Import page: a CSV file of new shares, shown row by row with each computed expiry or its
errors, then created on one confirmation (``imports``)."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from . import imports, once
from .auth import requires
from .enums import Role
from .expiry import to_utc_z
from .extensions import csrf, db
from .forms.imports import MAX_BYTES, TOO_LARGE, FileRefused, ImportForm, template_csv
from .models import ShareImport
from .templating import display_zone, local_time

bp = Blueprint("imports", __name__)

#: Room for the multipart envelope around a file at the limit, so that the file's own size
#: decides, with the contract's message.
ENVELOPE = 64 * 1024


@bp.get("/shares/import")
@requires(Role.AGENT)
def new_import():
    """The upload form, and what a file must hold."""
    return _upload_page(ImportForm(formdata=None), [], 200)


@bp.get("/shares/import/template.csv")
@requires(Role.AGENT)
def template():
    """A file to start from: the header with every column, and one example row."""
    headers = {"Content-Disposition": 'attachment; filename="shares-import-template.csv"'}
    return Response(template_csv(), mimetype="text/csv", headers=headers)


@bp.post("/shares/import")
@csrf.exempt  # checked below, once the upload's own size limit is set
@requires(Role.AGENT)
def upload():
    """Check a file and show every row; keep it for the confirmation when every row is valid.

    Nothing is created here. A file refused whole, or with a row in error, is not kept.
    """
    request.max_content_length = MAX_BYTES + ENVELOPE
    try:
        csrf.protect()
        form = ImportForm()
    except RequestEntityTooLarge:
        return _upload_page(ImportForm(formdata=None), [TOO_LARGE], 413)
    if not form.validate_on_submit():
        return _upload_page(form, [], 422)
    upload = form.file.data
    data = upload.read()
    done = imports.imported(data)
    if done is not None:
        return _upload_page(form, [_refusal(done)], 409)
    try:
        checked = imports.preview(data)
    except FileRefused as refused:
        return _upload_page(form, refused.problems, 422)
    pending = None
    if not checked.invalid:
        try:
            pending = imports.keep(data, upload.filename or "upload.csv")
            db.session.commit()
        except IntegrityError:  # the same bytes, kept by a request a moment ago
            db.session.rollback()
            pending = db.session.scalar(
                db.select(ShareImport).where(ShareImport.sha256 == imports.digest(data))
            )
    return _preview(checked, pending, upload.filename, 200 if pending else 422)


def _upload_page(form: ImportForm, problems: list[str], status: int):
    """The upload form, with what refused the whole file, if anything did."""
    return render_template("imports/new.html", form=form, problems=problems), status


def _preview(checked, pending: ShareImport | None, filename: str | None, status: int):
    """Every row with its expiry or its errors, and the confirmation when all are valid."""
    page = render_template(
        "imports/preview.html", checked=checked, pending=pending, filename=filename
    )
    return page, status


@bp.get("/shares/import/<int:import_id>")
@requires(Role.AGENT)
def show_import(import_id: int):
    """A kept file: its rows and the confirmation, or once imported, what it made."""
    kept = db.get_or_404(ShareImport, import_id)
    if kept.imported_at is not None:
        made = {
            # Its shares were all made in the second it was imported.
            "filter[created_at][gte]": to_utc_z(kept.imported_at),
            "filter[created_at][lt]": to_utc_z(kept.imported_at + timedelta(seconds=1)),
        }
        return render_template(
            "imports/done.html", kept=kept, ids=imports.id_ranges(kept.share_ids or []), made=made
        )
    if imports.expired(kept):
        return _gone(kept)
    return _preview(imports.preview(kept.content), kept, kept.filename, 200)


def _gone(kept: ShareImport):
    flash(
        f"The upload of {kept.filename} waited more than a day for its confirmation and was "
        "thrown away: upload the file again.",
        "error",
    )
    return redirect(url_for("imports.new_import"))


@bp.post("/shares/import/<int:import_id>")
@requires(Role.AGENT)
def confirm_import(import_id: int):
    """Create every row of a kept file, in one transaction, in file order. Sent twice, it
    creates once; a file imported already is refused, saying when and what it made."""
    kept = db.get_or_404(ShareImport, import_id)
    location = url_for("imports.show_import", import_id=kept.id)
    if kept.imported_at is not None:
        return _imported_already(import_id, location)
    if imports.expired(kept):
        return _gone(kept)
    name = kept.filename
    try:
        outcome = imports.confirm(kept)
    except FileRefused as refused:  # the checks changed since the preview
        db.session.rollback()
        return _upload_page(ImportForm(formdata=None), refused.problems, 422)
    if outcome is None:  # imported by another request meanwhile
        return _imported_already(import_id, location)
    if outcome.invalid:
        db.session.rollback()
        return _preview(imports.preview(kept.content), None, name, 422)
    count = len(outcome.ids)
    message = f"{count:,} share{'s' if count != 1 else ''} created from {name}."
    return once.done(location, message)


def _refusal(done: ShareImport) -> str:
    """The refusal of a file imported already, its time in the reader's own zone."""
    return imports.refusal(done, lambda instant: local_time(instant, display_zone()))


def _imported_already(import_id: int, location: str):
    """This very form's first answer when it imported the file (sent twice, perhaps at once);
    else the refusal, saying when and by whom the file was imported and what it made."""
    db.session.rollback()
    if (answer := once.replay()) is not None:
        return answer
    flash(_refusal(db.session.get(ShareImport, import_id)), "error")
    return redirect(location)
