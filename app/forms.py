"""The base of every form: what a person types is cleaned of control characters at the edge.

Every `StringField` (and those built on it: hidden, text area, search, ...) gets
`inputs.clean_text` as its first filter, so no stored text holds a control character; a
`TextAreaField` keeps its line breaks. Passwords are left exactly as typed: they are never
stored or shown, and a password set before must keep working.
"""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField

from .inputs import clean_text


def _one_line(value):
    return clean_text(value) if isinstance(value, str) else value


def _multi_line(value):
    return clean_text(value, multiline=True) if isinstance(value, str) else value


class Form(FlaskForm):
    """A Flask-WTF form (CSRF and all) whose text fields are cleaned before validation."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            if issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
                clean = _multi_line if issubclass(field_class, TextAreaField) else _one_line
                options["filters"] = (clean, *options.get("filters", ()))
            return super().bind_field(form, unbound_field, options)
