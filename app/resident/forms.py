from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..forms import Form


class LookupForm(Form):
    serial = StringField(
        _l("Card number"),
        description=_l("Printed under the QR code, e.g. ZJH-7K3M-Q9."),
        validators=[
            DataRequired(message=_l("Please enter the card number printed on the card.")),
            Length(max=40, message=_l("A card number is shorter than this.")),
        ],
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "placeholder": "ZJH-7K3M-Q9",
        },
    )
    pin = StringField(
        _l("PIN"),
        description=_l("The 4 digits printed beside the card number."),
        validators=[
            DataRequired(message=_l("Please enter the 4-digit PIN printed on the card.")),
            Length(max=8, message=_l("The PIN has 4 digits.")),
        ],
        render_kw={
            "autocomplete": "off",
            "inputmode": "numeric",
            "pattern": "[0-9]*",
            "maxlength": "4",
        },
    )
