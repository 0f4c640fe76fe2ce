"""Compression: static files and chosen pages are compressed; pages with forms are not."""

import gzip


def test_static_text_files_are_compressed_and_revalidate(client):
    first = client.get("/static/css/site.css", headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200
    assert first.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(first.data).startswith(b"/* ")
    again = client.get(
        "/static/css/site.css",
        headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304
    with client.get("/static/icons/icon-192.png", headers={"Accept-Encoding": "gzip"}) as png:
        assert "Content-Encoding" not in png.headers


def test_pages_with_forms_are_not_compressed(client):
    # A CSRF token next to text the visitor typed would leak through compressed sizes (BREACH).
    for response in (
        client.get("/login", headers={"Accept-Encoding": "gzip"}),
        client.post("/login", data={"login": "x"}, headers={"Accept-Encoding": "gzip"}),
    ):
        assert response.status_code == 200
        assert "Content-Encoding" not in response.headers


def test_a_client_that_takes_no_compression_gets_the_plain_file(client):
    with client.get("/static/icons/icon.svg", headers={"Accept-Encoding": "identity"}) as plain:
        assert "Content-Encoding" not in plain.headers
        assert plain.data.startswith(b"<svg")


def compressions(monkeypatch):
    """Count the bodies Flask-Compress compresses."""
    from flask_compress import flask_compress

    made = []
    compress_data = flask_compress._compress_data

    def counted(app, data, algorithm):
        made.append(algorithm)
        return compress_data(app, data, algorithm)

    monkeypatch.setattr(flask_compress, "_compress_data", counted)
    return made


def test_an_unchanged_card_page_is_compressed_once_and_a_changed_one_again(
    db, client, community, monkeypatch
):
    from . import factories

    shop = factories.merchant(community)
    campaign = factories.campaign(community, rule="8折")
    card = factories.cards(campaign, 1)[0]
    made = compressions(monkeypatch)
    gz = {"Accept-Encoding": "gzip"}
    first, second = (
        client.get(f"/c/{card.token}", headers=gz),
        client.get(f"/c/{card.token}", headers=gz),
    )
    assert made == ["gzip"]
    assert second.data == first.data and second.headers["ETag"] == first.headers["ETag"]
    factories.redemption(card, shop, 5000, 1000)
    after = client.get(f"/c/{card.token}", headers=gz)
    assert made == ["gzip", "gzip"]
    assert after.headers["ETag"] != first.headers["ETag"]
    assert "¥10.00" in gzip.decompress(after.data).decode()
    br = client.get(f"/c/{card.token}", headers={"Accept-Encoding": "br"})
    assert br.headers["Content-Encoding"] == "br" and made[-1] == "br"  # kept per algorithm


def test_a_kept_body_is_never_the_answer_to_another_request(app, db, community):
    from flask.testing import FlaskClient

    from . import factories

    card = factories.cards(factories.campaign(community), 1)[0]
    db.session.commit()
    # Flask's own client inside the test's app context: the requests share that context and
    # its `g`, as a script or a benchmark driving the app does.
    client = FlaskClient(app)
    gz = {"Accept-Encoding": "gzip"}
    page = client.get(f"/c/{card.token}", headers=gz)
    css = client.get("/static/css/card.css", headers=gz)
    manifest = client.get(f"/c/{card.token}/manifest.webmanifest", headers=gz)
    assert gzip.decompress(page.data).startswith(b"<!doctype html>")
    assert not gzip.decompress(css.data).startswith(b"<!doctype html>")
    assert gzip.decompress(manifest.data).startswith(b"{")


def test_bodies_nobody_named_are_compressed_every_time(client, monkeypatch):
    made = compressions(monkeypatch)
    for _ in range(2):
        client.get("/static/css/site.css", headers={"Accept-Encoding": "gzip"})
    assert made == ["gzip", "gzip"]


def test_the_kept_bodies_start_again_when_full():
    from app.compression import CompressedBodies

    kept = CompressedBodies(size=2)
    kept.set("gzip;", b"never kept")
    assert kept.get("gzip;") is None
    kept.set("gzip;a", b"A")
    kept.set("gzip;b", b"B")
    assert kept.get("gzip;a") == b"A"
    kept.set("gzip;c", b"C")
    assert kept.get("gzip;a") is None and kept.get("gzip;c") == b"C"
