"""Every page sends strict security headers; forms without a CSRF token are refused."""

import re
from pathlib import Path

import pytest


@pytest.mark.parametrize("path", ["/", "/login", "/does-not-exist", "/healthz"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval'" not in csp.replace("wasm-unsafe-eval'", "")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_a_form_posted_without_csrf_token_is_refused_in_chinese(client, staff_user):
    response = client.post(
        "/login", data={"login": "zjh-staff", "password": "correct horse"}, csrf=False
    )
    assert response.status_code == 400
    assert "表单已过期" in response.text


def test_session_cookie_is_httponly_and_lax(client, staff_user):
    client.post("/login", data={"login": "zjh-staff", "password": "correct horse"})
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert not cookie.secure


def test_behind_https_cookies_are_secure_and_hsts_is_sent(make_app):
    app = make_app(HTTPS=True)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_templates_have_no_inline_script_or_style():
    root = Path(__file__).resolve().parent.parent / "templates"
    offenders = []
    for template in root.rglob("*.html"):
        source = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source) or re.search(r"\sstyle=", source):
            offenders.append(template.name)
        if re.search(r"\son[a-z]+=", source):
            offenders.append(template.name)
        if re.search(r"(src|href)=\"(https?:)?//", source):
            offenders.append(template.name)
    assert not offenders


def test_a_nul_character_in_a_form_or_query_is_refused_with_400(client, staff_user):
    assert client.post("/login", data={"login": "zjh\x00staff", "password": "x"}).status_code == 400
    assert client.get("/login?next=/\x00").status_code == 400


def test_an_id_beyond_any_row_is_404_not_a_database_error(merchant):
    assert merchant.get("/m/r/2147483648").status_code == 404
    assert merchant.get("/m/r/99999999999999999999").status_code == 404
