"""Card QR codes: compact alphanumeric URLs, inline SVG that decodes back."""

import re

from app.services.cards import new_token
from app.services.qr import card_qr_text, qr_matrix, qr_svg


def test_card_qr_text_is_the_upper_case_card_url():
    assert (
        card_qr_text("https://linli.example.cn/", "ABC234") == "HTTPS://LINLI.EXAMPLE.CN/C/ABC234"
    )


def test_a_card_url_fits_a_version_3_code():
    text = card_qr_text("https://linli.example.cn", new_token())
    assert len(qr_matrix(text)) == 29  # version 3: 21 + 4 × (3 − 1)


def test_svg_is_inline_markup_without_style_attributes():
    text = "HTTPS://LINLI.EXAMPLE.CN/C/ABC"
    svg = qr_svg(text, label='card <1> & "x"')
    assert svg.startswith('<svg class="qr"') and svg.endswith("</svg>")
    assert "style=" not in svg and "<?xml" not in svg
    assert "<title>card &lt;1&gt; &amp; &quot;x&quot;</title>" in svg
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    assert size == len(qr_matrix(text)) + 8  # four modules of quiet zone each side
    assert len(svg) < 3000


def test_svg_paths_cover_exactly_the_dark_modules():
    text = "HTTPS://LINLI.EXAMPLE.CN/C/" + new_token()
    matrix = qr_matrix(text)
    dark = set()
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", qr_svg(text, quiet=0)):
        dark |= {(int(x) + i, int(y)) for i in range(int(w))}
    expected = {(x, y) for y, row in enumerate(matrix) for x, on in enumerate(row) if on}
    assert dark == expected


def test_card_url_uses_the_configured_base_url(make_app):
    from app.templating import card_url

    app = make_app(BASE_URL="https://linli.example.cn/")
    with app.test_request_context("/"):
        assert card_url("ABC234") == "https://linli.example.cn/c/ABC234"


def test_card_url_falls_back_to_the_requests_host(app):
    from app.templating import card_url

    with app.test_request_context("/", base_url="http://192.168.1.5:5000"):
        assert card_url("ABC234") == "http://192.168.1.5:5000/c/ABC234"


def test_the_upper_case_card_url_opens_the_card(client, community, db):
    from . import factories

    card = factories.cards(factories.campaign(community), 1)[0]
    assert client.get(f"/C/{card.token}").status_code == 200
    assert client.get(f"/c/{card.token.lower()}").status_code == 200
    assert client.get("/c/NOSUCHTOKEN").status_code == 404


def test_a_cached_card_qr_is_reused_until_the_site_address_changes(db, community):
    from app.services.qr import card_qr_svg

    from . import factories

    card = factories.cards(factories.campaign(community), 1)[0]
    first = card_qr_svg(card, "https://a.example", store=True)
    db.session.commit()
    assert card.qr_svg.startswith(f"HTTPS://A.EXAMPLE/C/{card.token}\n")
    card.qr_svg = card.qr_svg.replace("<rect", '<rect data-cached="1"')
    assert "data-cached" in card_qr_svg(card, "https://a.example")
    moved = card_qr_svg(card, "https://b.example")
    assert "data-cached" not in moved and moved != first
    assert card.qr_svg.startswith("HTTPS://A.EXAMPLE/")  # store=False leaves the cache alone
