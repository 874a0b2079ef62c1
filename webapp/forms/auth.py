"""The sign-in form, and the form that changes one's own password."""

from __future__ import annotations

from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import ValidationError

from ..models import Staff
from .admin import password_field
from .base import Form
from .fields import max_length, required, strip


class SignInForm(Form):
    email = EmailField("Email", filters=[strip], validators=[required, max_length(254)])
    password = PasswordField("Password", validators=[required])
    #: The browser's time zone (static/js/app.js fills it in): the first page after a first
    #: sign-in already shows times in it. Not checked here: a zone we do not know is ignored.
    zone = HiddenField()


class PasswordChangeForm(Form):
    current_password = PasswordField("Current password", validators=[required])
    new_password = password_field("New password", f"At least {Staff.MIN_PASSWORD} characters.")
    confirm = PasswordField("New password again", validators=[required])

    def validate_new_password(self, field):
        if field.data and field.data == self.current_password.data:
            raise ValidationError("The new password must differ from the current one.")

    def validate_confirm(self, field):
        if field.data and field.data != self.new_password.data:
            raise ValidationError("The two new passwords differ.")
