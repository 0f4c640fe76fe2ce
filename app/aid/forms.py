"""Forms of the help board, for residents (/aid) and for the office (/admin/aid)."""

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import EqualTo, Length, Optional

from ..admin.forms import choice_id, stripped
from ..forms import Form
from ..models import HelpCategory, HelpKind


class ResidentJoinForm(Form):
    community = SelectField(_l("Community"), coerce=choice_id, validate_choice=False)
    name = StringField(
        _l("Your name"),
        filters=[stripped],
        validators=[Length(max=40)],
        render_kw={"autocomplete": "name"},
    )
    phone = StringField(
        _l("Mobile number"),
        description=_l("You sign in with it. Neighbours see it only when you help each other."),
        filters=[stripped],
        validators=[Length(max=20)],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    household = StringField(
        _l("Household"),
        description=_l("Building-unit-room, e.g. 3-2-501. The office checks it."),
        filters=[stripped],
        validators=[Length(max=40)],
        render_kw={"placeholder": "3-2-501"},
    )
    password = PasswordField(
        _l("Password"),
        description=_l("At least 8 characters."),
        validators=[Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Password again"),
        validators=[EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


# The help post service's refusals, each beside the PostForm field it is about.
POST_FIELDS = {
    "kind_invalid": "kind",
    "category_invalid": "category",
    "title_required": "title",
    "title_too_long": "title",
    "details_too_long": "details",
    "when_too_long": "when_text",
    "area_too_long": "area",
}


class PostForm(Form):
    kind = RadioField(_l("I"), default=HelpKind.REQUEST.value, validate_choice=False)
    category = SelectField(_l("Kind of help"), validate_choice=False)
    title = StringField(
        _l("What is needed, in a few words"),
        filters=[stripped],
        validators=[Length(max=200)],
        render_kw={"placeholder": _l("e.g. Buy vegetables and rice for me")},
    )
    details = TextAreaField(
        _l("Details"),
        description=_l(
            "Everyone can read the board: a phone number or room written here is hidden, and "
            "shown only to the neighbour who takes it on."
        ),
        filters=[stripped],
        validators=[Length(max=2000)],
        render_kw={"rows": 4},
    )
    when_text = StringField(
        _l("When"),
        filters=[stripped],
        validators=[Length(max=200)],
        render_kw={"placeholder": _l("e.g. Tomorrow morning")},
    )
    area = StringField(
        _l("Where, roughly"),
        filters=[stripped],
        validators=[Length(max=200)],
        render_kw={"placeholder": _l("e.g. Near building 3")},
    )

    def set_choices(self, categories):
        self.kind.choices = [
            (HelpKind.REQUEST.value, _l("need help")),
            (HelpKind.OFFER.value, _l("can help")),
        ]
        self.category.choices = categories
        if not self.category.data:
            self.category.data = HelpCategory.SHOPPING.value


class ConfirmHelpForm(Form):
    hours = StringField(
        _l("Hours given"),
        description=_l("e.g. 1.5; at most 12."),
        filters=[stripped],
        validators=[Length(max=10)],
        render_kw={"inputmode": "decimal"},
    )


class PointsForm(Form):
    amount = IntegerField(
        _l("Points"),
        description=_l("Negative to take points off, e.g. -20."),
        validators=[Optional()],
    )
    reason = StringField(_l("Reason"), filters=[stripped], validators=[Length(max=200)])


class ExchangeForm(Form):
    points_price = IntegerField(
        _l("Points for one card"),
        description=_l("Leave empty: not exchangeable."),
        validators=[Optional()],
    )
    points_stock = IntegerField(
        _l("Cards for points in all"),
        description=_l("Leave empty for no limit beyond the campaign's own."),
        validators=[Optional()],
    )


class HouseholdForm(Form):
    household = StringField(_l("Household"), filters=[stripped], validators=[Length(max=40)])


class NoPhoneResidentForm(Form):
    """A resident without a phone, added at the office (代办): as little as the job needs."""

    name = StringField(_l("Name"), filters=[stripped], validators=[Length(max=40)])
    household = StringField(
        _l("Household"),
        description=_l("Building-unit-room, e.g. 3-2-501."),
        filters=[stripped],
        validators=[Length(max=40)],
        render_kw={"placeholder": "3-2-501"},
    )
    contact_name = StringField(
        _l("Someone to call"),
        description=_l("A neighbour or a family member, e.g. 李红（女儿）. No ID numbers."),
        filters=[stripped],
        validators=[Length(max=40)],
    )
    contact_phone = StringField(
        _l("Their phone"),
        description=_l("The neighbour who takes on a request sees it; the board never shows it."),
        filters=[stripped],
        validators=[Length(max=20)],
        render_kw={"inputmode": "tel"},
    )
