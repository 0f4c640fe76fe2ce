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
