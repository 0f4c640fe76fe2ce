"""The office's forms. They read and lightly shape input; the services decide what is allowed."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import Form
from ..i18n import message
from ..inputs import optional_id
from ..models import MERCHANT_CATEGORIES, CampaignKind, Funding, Role
from ..rules import MoneyError, format_money, parse_money
from .labels import choices


class MoneyField(StringField):
    """An amount of yuan typed by a person; `data` is int fen, or None when left blank."""

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        text = (self.raw or "").strip()
        if not text:
            self.data = None
            return
        try:
            self.data = parse_money(text)
        except MoneyError as error:
            self.data = None
            raise ValueError(message(error)) from error

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_money(self.data) if isinstance(self.data, int) else ""


def choice_id(value) -> int:
    """Read a chosen id; an empty or odd choice (too long, out of a key's range, not a number)
    is 0, which the services refuse by name."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return optional_id(value if isinstance(value, str) else None) or 0


def stripped(value):
    """A field filter: the text without the white space around it."""
    return value.strip() if isinstance(value, str) else value


class CommunityMixin:
    """A community choice, shown to the district admin only (staff work in their own)."""

    def set_communities(self, choices, show: bool):
        if show:
            self.community.choices = [(0, _l("— choose —")), *choices]
        else:
            del self.community


class MerchantForm(Form, CommunityMixin):
    community = SelectField(_l("Community"), coerce=choice_id, validate_choice=False)
    name = StringField(_l("Shop name"), filters=[stripped], validators=[Length(max=80)])
    category = SelectField(_l("Category"), validate_choice=False)
    address = StringField(_l("Address"), filters=[stripped], validators=[Length(max=200)])
    phone = StringField(
        _l("Contact phone"),
        filters=[stripped],
        validators=[Length(max=20)],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    hours = StringField(
        _l("Opening hours"),
        filters=[stripped],
        validators=[Length(max=80)],
        description=_l("As the shop says it, e.g. 06:00–13:00, closed on Mondays."),
    )
    note = TextAreaField(_l("Note"), filters=[stripped], validators=[Length(max=1000)])

    def set_categories(self, current: str = ""):
        choices = [("", _l("— choose —"))] + [(c, c) for c in MERCHANT_CATEGORIES]
        if current and current not in MERCHANT_CATEGORIES:
            choices.append((current, current))
        self.category.choices = choices


class LoginFields:
    """The three fields that make a login: who, the login name, the first password."""

    owner_name = StringField(_l("Name of the person"), filters=[stripped])
    owner_login = StringField(
        _l("Login name"),
        filters=[stripped],
        description=_l("A mobile number or a user name, used to sign in."),
        render_kw={"autocomplete": "off", "autocapitalize": "none"},
    )
    owner_password = StringField(
        _l("First password"),
        description=_l(
            "At least 8 characters. Tell it to the person; they choose their own at the first "
            "sign-in."
        ),
        render_kw={"autocomplete": "new-password"},
    )


class NewMerchantForm(MerchantForm, LoginFields):
    """Registering a shop, with its owner's login (optional)."""


class ApproveForm(Form, LoginFields):
    """Approving an application; the owner's login is made at the same time (optional)."""


class ShopLoginForm(Form, LoginFields):
    role = SelectField(_l("Role"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [
            (Role.CASHIER.value, _l("Cashier")),
            (Role.MERCHANT_OWNER.value, _l("Owner")),
        ]


class PasswordResetForm(Form):
    password = StringField(
        _l("New password"),
        description=_l("Tell it to the person; they choose their own at the next sign-in."),
        validators=[InputRequired(message=_l("Please enter a new password."))],
        render_kw={"autocomplete": "new-password"},
    )


class ReasonForm(Form):
    reason = StringField(
        _l("Reason"),
        filters=[stripped],
        validators=[Length(max=200)],
    )


class EmptyForm(Form):
    """A form with nothing but its CSRF token, for one-button actions."""


class JoinForm(Form):
    community = SelectField(_l("Community"), coerce=choice_id, validate_choice=False)
    name = StringField(_l("Shop name"), filters=[stripped], validators=[Length(max=80)])
    category = SelectField(_l("Category"), validate_choice=False)
    address = StringField(_l("Address"), filters=[stripped], validators=[Length(max=200)])
    applicant = StringField(_l("Your name"), filters=[stripped], validators=[Length(max=40)])
    phone = StringField(
        _l("Your phone"),
        filters=[stripped],
        validators=[Length(max=20)],
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
    )
    hours = StringField(_l("Opening hours"), filters=[stripped], validators=[Length(max=80)])
    note = TextAreaField(
        _l("Anything else"),
        filters=[stripped],
        validators=[Length(max=500)],
        description=_l("e.g. which discount you would like to give."),
    )
    website = HiddenField()  # left empty by people; a robot filling it is ignored

    def set_categories(self):
        self.category.choices = [("", _l("— choose —"))] + [(c, c) for c in MERCHANT_CATEGORIES]


class UploadForm(Form, CommunityMixin):
    community = SelectField(_l("Community"), coerce=choice_id, validate_choice=False)
    sheet = FileField(_l("Sheet (.xlsx or .csv)"))


class BatchForm(Form):
    size = IntegerField(
        _l("Number of cards"),
        validators=[
            InputRequired(message=_l("Please enter how many cards to make.")),
            NumberRange(min=1, max=10_000, message=_l("A batch holds from 1 to 10,000 cards.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    note = StringField(_l("Note"), filters=[stripped], validators=[Length(max=200), Optional()])


class CampaignForm(Form, CommunityMixin):
    community = SelectField(_l("Community"), coerce=choice_id, validate_choice=False)
    name = StringField(
        _l("Campaign name"),
        filters=[stripped],
        validators=[Length(max=80)],
        description=_l("Printed on every card, e.g. 紫荆花邻里互助消费卡."),
    )
    code = StringField(
        _l("Serial prefix"),
        filters=[stripped],
        validators=[Length(max=6)],
        description=_l("2 to 6 capital letters that start every serial, e.g. ZJH in ZJH-7K3M-Q9."),
        render_kw={"autocapitalize": "characters", "autocomplete": "off"},
    )
    kind = RadioField(_l("Kind"), validate_choice=False)
    funding = RadioField(_l("Who pays for the discount"), validate_choice=False)
    valid_from = DateField(
        _l("First day"), validators=[Optional()], render_kw={"placeholder": "2026-05-12"}
    )
    valid_until = DateField(_l("Last day"), validators=[Optional()])
    uses_per_card = IntegerField(
        _l("Uses per card"),
        validators=[Optional()],
        description=_l("Empty: no limit. A coupon is used once."),
        render_kw={"inputmode": "numeric"},
    )
    daily_uses_per_merchant = IntegerField(
        _l("Uses per card per shop per day"),
        validators=[Optional()],
        description=_l("Empty: no limit."),
        render_kw={"inputmode": "numeric"},
    )
    cards_per_household = IntegerField(
        _l("Cards per household"),
        validators=[Optional()],
        description=_l("Empty: no limit."),
        render_kw={"inputmode": "numeric"},
    )
    budget = MoneyField(
        _l("Budget (yuan)"),
        description=_l("The most all discounts together may come to. Empty: no limit."),
        render_kw={"inputmode": "decimal"},
    )
    rule = StringField(_l("Default rule"), filters=[stripped], validators=[Length(max=200)])
    description = TextAreaField(
        _l("Description"), filters=[stripped], validators=[Length(max=2000)]
    )

    def set_choices(self):
        self.kind.choices = choices(CampaignKind)
        self.funding.choices = choices(Funding)


class OfferForm(Form):
    rule = StringField(
        _l("This shop's rule"),
        filters=[stripped],
        validators=[Length(max=200)],
        description=_l("Leave empty to use the campaign's default rule."),
    )


class AddOffersForm(OfferForm):
    merchants = SelectMultipleField(_l("Shops"), coerce=int, validate_choice=False)


def household_field() -> StringField:
    """A household's address as the office types it (the hand-out and the roster forms)."""
    return StringField(
        _l("Household"),
        filters=[stripped],
        validators=[Length(max=40)],
        description=_l("Building-unit-room, e.g. 3-2-501 or 3栋2单元501."),
        render_kw={"autocomplete": "off"},
    )


def household_phone_field() -> StringField:
    """A household's phone, optional, kept to reach it (the hand-out and the roster forms)."""
    return StringField(
        _l("Phone (optional)"),
        filters=[stripped],
        validators=[Length(max=20)],
        description=_l("Kept to reach the household; shown masked."),
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )


class IssueForm(Form):
    serial = StringField(
        _l("Card"),
        filters=[stripped],
        validators=[Length(max=200)],
        description=_l("Scan the card's QR code with the scanner, or type its serial."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    household = household_field()
    phone = household_phone_field()


class ReplaceForm(ReasonForm):
    replacement = StringField(
        _l("New card (optional)"),
        filters=[stripped],
        validators=[Length(max=200)],
        description=_l("Scan or type a spare card of the same campaign; leave empty to make one."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )


class CommunityForm(Form):
    name = StringField(_l("Community name"), filters=[stripped], validators=[Length(max=80)])
    slug = StringField(
        _l("Web name"),
        filters=[stripped],
        validators=[Length(max=40)],
        description=_l("Lower-case letters for the community's page address, e.g. zijinghua."),
        render_kw={"autocapitalize": "none", "autocomplete": "off"},
    )
    street = SelectField(_l("Street (街道)"), coerce=choice_id, validate_choice=False)
    district = StringField(_l("District (区)"), filters=[stripped], validators=[Length(max=80)])
    households = IntegerField(
        _l("Households"),
        validators=[Optional()],
        description=_l("For figures per household. Empty: not known."),
        render_kw={"inputmode": "numeric"},
    )
    residents = IntegerField(
        _l("Residents"), validators=[Optional()], render_kw={"inputmode": "numeric"}
    )
    phone = StringField(
        _l("Office phone"),
        filters=[stripped],
        validators=[Length(max=20)],
        description=_l("Printed on the notice-board poster and on residents' paper."),
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )


class OfficePhoneForm(Form):
    phone = StringField(
        _l("Office phone"),
        filters=[stripped],
        validators=[Length(max=20)],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )


class StreetForm(Form):
    name = StringField(_l("Street name"), filters=[stripped], validators=[Length(max=80)])
    district = StringField(_l("District (区)"), filters=[stripped], validators=[Length(max=80)])
    staff_may_act = BooleanField(
        _l("Street staff may register shops and create campaigns for a community"),
        description=_l("Off: street staff only read their communities' rows and compare them."),
    )


class MoveForm(Form):
    """Place a community in this street."""

    community = SelectField(_l("Community"), coerce=choice_id, validate_choice=False)


class StaffForm(Form, LoginFields):
    """A staff login for a community."""


# --- the household roster and hand-out lists ------------------------------------------------


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of check boxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class HouseholdRosterForm(Form, CommunityMixin):
    community = SelectField(_l("Community"), coerce=choice_id, validate_choice=False)
    address = household_field()
    head_name = StringField(
        _l("Head of household"), filters=[stripped], validators=[Length(max=40)]
    )
    phone = household_phone_field()
    people = StringField(
        _l("People in the household"),
        filters=[stripped],
        validators=[Length(max=3)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    groups = MultiCheckboxField(_l("Groups"), validate_choice=False)
    note = StringField(
        _l("Note"),
        filters=[stripped],
        validators=[Length(max=200)],
        description=_l("What helps whoever hands out the card, e.g. ring twice. No ID numbers."),
    )


class ApplyImportForm(Form):
    community = HiddenField()
    rows = HiddenField()


class HandoutForm(Form):
    buildings = MultiCheckboxField(_l("Buildings"), validate_choice=False)
    hand_out_on = DateField(
        _l("Day of the hand-out"),
        validators=[InputRequired(message=_l("Please give the day the cards go out."))],
    )
    note = StringField(_l("Note"), filters=[stripped], validators=[Length(max=200)])


class ScanForm(Form):
    card = StringField(
        _l("Card"),
        filters=[stripped],
        validators=[Length(max=200)],
        description=_l("Scan the card's QR code with the scanner, or type its serial."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class WavesForm(Form):
    """分批发放: the numbers are read by `inputs.parse_count`, bounded, in the route."""

    size = StringField(
        _l("Cards per wave"),
        filters=[stripped],
        render_kw={"inputmode": "numeric", "placeholder": "500"},
    )
    count = StringField(
        _l("Number of waves"),
        filters=[stripped],
        render_kw={"inputmode": "numeric", "placeholder": "4"},
    )
    first_day = DateField(
        _l("First wave opens on"),
        validators=[InputRequired(message=_l("Please give the day the first wave opens."))],
    )
    every_days = StringField(
        _l("Days between waves"),
        filters=[stripped],
        render_kw={"inputmode": "numeric", "placeholder": "7"},
    )
    valid_days = StringField(
        _l("Days each wave's cards are valid"),
        filters=[stripped],
        render_kw={"inputmode": "numeric", "placeholder": "30"},
    )
