"""The sign-in form."""

from __future__ import annotations

from wtforms import EmailField, PasswordField

from .base import Form
from .fields import max_length, required, strip


class SignInForm(Form):
    email = EmailField("Email", filters=[strip], validators=[required, max_length(254)])
    password = PasswordField("Password", validators=[required])
