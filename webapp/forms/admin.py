"""The admin forms: staff accounts and their roles, API tokens."""

from __future__ import annotations

import sqlalchemy as sa
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import enum_choices, enum_coerce
from wtforms.validators import ValidationError

from ..enums import Role
from ..extensions import db
from ..models import ApiToken, Staff
from .base import Form
from .fields import max_length, one_line, required, strip


def role_field(label="Role"):
    return SelectField(
        label,
        choices=enum_choices(Role, label=lambda m: m.label),
        coerce=enum_coerce(Role),
        default=Role.VIEWER,
        invalid_value_message="Choose a role: viewer, agent or admin.",
        invalid_choice_message="Choose a role: viewer, agent or admin.",
    )


def check_password_length(form, field):
    if field.data and len(field.data) < Staff.MIN_PASSWORD:
        raise ValidationError(f"The password must be at least {Staff.MIN_PASSWORD} characters.")


def password_field(label: str, description: str) -> PasswordField:
    """A new password: required, and long enough."""
    return PasswordField(
        label, validators=[required, check_password_length], description=description
    )


class StaffForm(Form):
    email = EmailField("Email", filters=[strip], validators=[required, max_length(254)])
    role = role_field()
    password = password_field(
        "Password", f"At least {Staff.MIN_PASSWORD} characters; share it with them privately."
    )

    def validate_email(self, field):
        problem = field.data and Staff.email_problem(field.data)
        if problem:
            raise ValidationError(f"The email field {problem}.")
        if field.data and Staff.by_email(field.data):
            raise ValidationError("A staff account with this email exists already.")


class StaffRoleForm(Form):
    role = role_field()


class PasswordResetForm(Form):
    """An admin sets a temporary password, which the member replaces at their next sign-in."""

    password = password_field(
        "Temporary password",
        f"At least {Staff.MIN_PASSWORD} characters; give it to them privately.",
    )


class TokenForm(Form):
    name = StringField(
        "Name",
        filters=[strip],
        validators=[required, max_length(100), one_line],
        description="Who or what uses it, e.g. nightly-import.",
    )
    role = role_field()

    def validate_name(self, field):
        if field.data and db.session.scalar(sa.select(ApiToken).where(ApiToken.name == field.data)):
            raise ValidationError("A token with this name exists already (names are never reused).")
