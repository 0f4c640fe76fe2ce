"""Every page and every error page renders, in Chinese, without a 500."""

import re

import pytest

HAN = re.compile(r"[\u4e00-\u9fff]")


def parameterless_get_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static":
            yield rule.rule


@pytest.mark.parametrize("who", ["client", "staff", "district_admin", "merchant", "cashier"])
def test_every_simple_page_answers_without_error_for_every_role(app, request, who):
    client = request.getfixturevalue(who)
    for path in parameterless_get_routes(app):
        response = client.get(path)
        assert response.status_code < 500, path
        if response.status_code == 200 and response.mimetype == "text/html":
            assert HAN.search(response.text), f"{path} has no Chinese"


def test_not_found_page_is_chinese(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "页面不存在" in response.text


def test_forbidden_page_is_chinese(merchant):
    response = merchant.get("/admin/")
    assert response.status_code == 403
    assert "没有权限" in response.text


def test_method_not_allowed_page_is_chinese(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert "不允许的操作" in response.text


def test_too_large_body_is_refused_in_chinese(client):
    response = client.post("/login", data={"login": "x" * (5 * 1024 * 1024)}, csrf=False)
    assert response.status_code == 413
    assert "内容过大" in response.text


def test_an_unexpected_error_shows_a_chinese_500_page(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "出错了" in response.text
    assert "kaboom" not in response.text


def test_api_errors_are_json_with_a_stable_code(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_health_check_answers_ok(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_start_page_lists_communities(client, community):
    response = client.get("/")
    assert "紫荆花社区" in response.text
    assert "邻里" in response.text


def test_start_page_links_each_community_and_finding_a_card(client, community):
    html = client.get("/").text
    assert f'<a href="/s/{community.slug}">紫荆花社区</a>' in html
    assert '<a class="button secondary" href="/card">查找我的卡</a>' in html


def test_signed_in_staff_are_sent_from_the_start_page_to_the_office(staff):
    assert staff.get("/").headers["Location"] == "/admin/"


def test_static_assets_carry_a_content_hash_and_a_long_cache_life(client):
    page = client.get("/login").text
    href = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]{10})"', page).group(1)
    with client.get(href) as response:
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers["Cache-Control"]


def test_asset_urls_follow_the_address_the_site_is_mounted_at(client):
    pattern = r'href="(/[a-z/]*static/css/site\.css)\?v='
    plain = re.search(pattern, client.get("/login").text).group(1)
    mounted = client.get("/login", base_url="http://localhost/linli/").text
    assert plain == "/static/css/site.css"
    assert re.search(pattern, mounted).group(1) == "/linli/static/css/site.css"
    assert re.search(pattern, client.get("/login").text).group(1) == plain  # kept apart


def test_method_not_allowed_keeps_the_allow_header(client):
    response = client.delete("/login")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    api = client.open("/api/v1/quote", method="TRACE")
    assert api.status_code == 405 and "POST" in api.headers["Allow"]
