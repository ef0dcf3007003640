"""HTML forms: typed fields, validation, accessible rendering, uploads checked.

Install with ``pip install 'oakling[forms]'`` (Pillow, for image uploads).
``import oakling`` never loads this package.

::

    from oakling.forms import EmailField, Form, TextAreaField

    class Contact(Form):
        email = EmailField()
        message = TextAreaField(max_length=2000)

    @app.route("/contact", methods=["GET", "POST"])
    def contact(request: Request, form: Contact):
        if form.is_valid():
            ...
            return redirect("/thanks", 303)
        status = 422 if form.is_bound else 200
        return page(form.render(request)), status
"""

from __future__ import annotations

try:
    import markupsafe  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    from oakling.exceptions import MissingDependency

    raise MissingDependency("markupsafe", extra="forms") from exc

from oakling.forms.choices import ChoiceField, MultipleChoiceField
from oakling.forms.fields import (
    BooleanField,
    DateField,
    DateTimeField,
    DecimalField,
    EmailField,
    Field,
    FieldErrors,
    FloatField,
    HiddenField,
    IntegerField,
    PasswordField,
    TextAreaField,
    TextField,
)
from oakling.forms.files import FileField, ImageField
from oakling.forms.form import BoundField, Form
from oakling.forms.structs import StructForm, field_for, fields_for_struct, form_for
from oakling.forms.validators import MaxLength, MaxValue, MinLength, MinValue, Regex, Validator

__all__ = (
    "BooleanField",
    "BoundField",
    "ChoiceField",
    "DateField",
    "DateTimeField",
    "DecimalField",
    "EmailField",
    "Field",
    "FieldErrors",
    "FileField",
    "FloatField",
    "Form",
    "HiddenField",
    "ImageField",
    "IntegerField",
    "MaxLength",
    "MaxValue",
    "MinLength",
    "MinValue",
    "MultipleChoiceField",
    "PasswordField",
    "Regex",
    "StructForm",
    "TextAreaField",
    "TextField",
    "Validator",
    "field_for",
    "fields_for_struct",
    "form_for",
)
