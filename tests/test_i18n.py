"""The interface speaks Chinese: every string in the code has a Chinese translation."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "app/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "N_": None,
}
HAN = re.compile(r"[\u4e00-\u9fff]")


def extracted_msgids() -> set[str]:
    method_map = [("app/**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_interface_string_has_a_chinese_translation():
    with PO.open("rb") as f:
        catalogue = read_po(f, locale="zh_Hans_CN")
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]: m.string
        for m in catalogue
        if m.id and m.string and "fuzzy" not in m.flags
    }
    missing = sorted(extracted_msgids() - set(translated))
    assert not missing, f"no Chinese for {len(missing)} strings; run `make messages`: {missing}"
    not_chinese = [k for k, v in translated.items() if not HAN.search(str(v)) and k != "Linli"]
    assert len(not_chinese) < 5, f"translations without Chinese: {not_chinese}"


def test_pages_are_chinese_by_default_and_english_on_request(client):
    page = client.get("/login")
    assert "登录" in page.text
    assert '<html lang="zh-Hans">' in page.text
    switched = client.get("/lang/en?next=/login")
    assert switched.status_code == 302
    assert switched.headers["Location"].endswith("/login")
    page = client.get("/login")
    assert "Sign in" in page.text
    assert '<html lang="en">' in page.text


def test_language_switch_refuses_to_redirect_off_site(client):
    response = client.get("/lang/en?next=//evil.example/")
    assert response.headers["Location"] == "/"
