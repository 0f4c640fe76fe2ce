"""QR codes as small inline SVG, and the text a card's QR carries.

A card's QR holds its URL in upper case (`HTTPS://HOST/C/TOKEN`): QR's alphanumeric mode packs
upper-case letters, digits and `:/.-` in 5.5 bits a character instead of 8, so the code is a
version smaller (29 instead of 33 modules across for a 53-character URL) and easier to scan off a
phone screen or a small print. Tokens are base32 for the same reason, and the card route answers
`/C/<token>` as well as `/c/<token>`.
"""

import qrcode
from qrcode.constants import ERROR_CORRECT_M


def card_qr_text(base_url: str, token: str) -> str:
    """Return what a card's QR encodes: its URL, upper-cased for the compact alphanumeric mode."""
    return f"{base_url.rstrip('/')}/C/{token}".upper()


def qr_matrix(text: str) -> list[list[bool]]:
    """Return the QR modules of `text` (error correction M), without the quiet zone.

    The mask pattern is fixed: any mask is valid for a reader, and choosing the "best" one is
    most of the encoding time, which matters for a print sheet of 2000 cards.
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, mask_pattern=0, border=0)
    code.add_data(text)
    code.make(fit=True)
    return code.get_matrix()


def qr_svg(text: str, *, quiet: int = 4, css_class: str = "qr", label: str = "") -> str:
    """Return an inline `<svg>` of the QR code of `text`, sized by CSS through its viewBox.

    Each row's runs of dark modules become one path segment, so a card URL's code is about
    1.5 KB of markup. `quiet` is the white margin in modules that readers need.
    """
    matrix = qr_matrix(text)
    size = len(matrix) + 2 * quiet
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                parts.append(f"M{start + quiet} {y + quiet}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    title = f"<title>{_escape(label)}</title>" if label else ""
    return (
        f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}"'
        f' shape-rendering="crispEdges" role="img">{title}'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(parts)}"/></svg>'
    )


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def card_qr_svg(card, base_url: str, *, store: bool = False) -> str:
    """Return the QR SVG of `card`'s URL, from the card's cache when it encodes the same URL.

    The cache (`Card.qr_svg`) begins with the encoded text on its own line, so a change of the
    site's address is noticed and the code redrawn. With `store=True` a fresh drawing is kept
    on the card (the caller commits): print sheets do this, so a second print of 2000 cards
    costs no encoding. Pages that only read (the resident's card) leave `store` off.
    """
    text = card_qr_text(base_url, card.token)
    cached = card.qr_svg
    if cached and cached.startswith(text + "\n"):
        return cached[len(text) + 1 :]
    svg = qr_svg(text, label=card.serial)
    if store:
        card.qr_svg = f"{text}\n{svg}"
    return svg
