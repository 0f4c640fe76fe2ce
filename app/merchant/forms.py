from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from ..forms import Form


class TypedCardForm(Form):
    """The fallback when a QR won't scan: serial and PIN, both printed on the card.

    Posted, never sent in a URL: the PIN would stay in the phone's history and access logs.
    The serial field also takes what a scan gave (the card's address), up to 200 characters.
    """

    serial = StringField(
        _l("Card number"),
        validators=[DataRequired(message=_l("Please enter the card number.")), Length(max=200)],
        description=_l("As printed, e.g. ZJH-7K3M-Q9. Card numbers never contain 0, O, 1 or I."),
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )
    pin = StringField(
        _l("PIN"),
        validators=[DataRequired(message=_l("Please enter the 4-digit PIN.")), Length(max=8)],
        description=_l("The 4 digits printed beside the card number."),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*"},
    )


class BillForm(Form):
    ref = HiddenField()
    pin = HiddenField()
    bill = StringField(
        _l("Bill (¥)"),
        validators=[DataRequired(message=_l("Please enter the bill."))],
        render_kw={
            "inputmode": "decimal",
            "autocomplete": "off",
            "placeholder": "0.00",
            "autofocus": True,
        },
    )


class ConfirmForm(Form):
    ref = HiddenField()
    pin = HiddenField()
    bill_fen = HiddenField()
    key = HiddenField()


class VoidForm(Form):
    reason = StringField(_l("Reason (optional)"), validators=[Length(max=200)])


class ApiKeyForm(Form):
    name = StringField(
        _l("Name of the key"),
        validators=[DataRequired(message=_l("Please give the key a name.")), Length(max=80)],
        description=_l("What it is for, e.g. “front counter till”."),
    )
