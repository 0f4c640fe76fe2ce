"""Who may open what: every route of the app against every kind of visitor.

The table below is checked against `app.url_map`: a route without an entry fails the test, so
a new page cannot ship without someone deciding who may use it. Objects in the URLs belong to
community A (紫荆花) and its shop; staff of community B get 404 for them (not 403: ids of other
communities must not leak). A refused request changes nothing in the database.
"""

import pytest
from sqlalchemy import func, select

from app.models import ApiKey, AuditLog, Card, Merchant, Redemption, User
from app.services import apikeys, handout, roster
from app.services.roster import HouseholdFields

from . import factories
from .calls import redeem
from .conftest import login

ROLES = (
    "anonymous",
    "resident",
    "cashier",
    "merchant_owner",
    "staff_a",
    "staff_b",
    "street_a",
    "street_b",
    "district_admin",
)
OK, LOGIN = "ok", "login"

PUBLIC = dict.fromkeys(ROLES, OK)
SIGNED_IN = {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}
STAFF = {
    "anonymous": LOGIN,
    "resident": 403,
    "cashier": 403,
    "merchant_owner": 403,
    "staff_a": OK,
    "staff_b": OK,
    "street_a": OK,
    "street_b": OK,
    "district_admin": OK,
}
STAFF_OF_A = {**STAFF, "staff_b": 404, "street_b": 404}  # an object of community A
# Street staff read a community's rows; its forms and actions are refused them (403) ...
WRITE = {**STAFF, "street_a": 403, "street_b": 403}
WRITE_OF_A = {**STAFF_OF_A, "street_a": 403, "street_b": 403}
# ... but for registering a shop or creating a campaign where the street's settings allow it
# (street A's do, street B's do not).
ON_BEHALF = {**STAFF, "street_b": 403}
# 代办: what community staff do for a resident of their own community; nobody else may.
DESK = {**WRITE, "district_admin": 403}
DESK_OF_A = {**WRITE_OF_A, "district_admin": 403}
# One card's print sheet carries its PIN: the office's own, not the street's.
PRINT_OF_A = {**STAFF_OF_A, "street_a": 403, "street_b": 403}
SHOP = {
    "anonymous": LOGIN,
    "resident": 403,
    "cashier": OK,
    "merchant_owner": OK,
    "staff_a": 403,
    "staff_b": 403,
    "street_a": 403,
    "street_b": 403,
    "district_admin": 403,
}
OWNER = {**SHOP, "cashier": 403}
RESIDENT = {**dict.fromkeys(ROLES, 403), "anonymous": LOGIN, "resident": OK}  # the help board
# the district admin's own pages
DISTRICT = {**STAFF, "staff_a": 403, "staff_b": 403, "street_a": 403, "street_b": 403}
STREET = {**DISTRICT, "street_a": OK, "street_b": OK}  # 互看互比: each street sees its own
API_KEY_ONLY = dict.fromkeys(ROLES, 401)  # a session cookie is not a key

# (endpoint, method) -> expected outcome per role. GET is tried for GET routes, POST for forms.
MATRIX = {
    ("main.index", "GET"): PUBLIC,
    ("main.favicon", "GET"): PUBLIC,
    ("main.healthz", "GET"): PUBLIC,
    ("main.set_language", "GET"): PUBLIC,
    ("auth.login", "GET"): PUBLIC,
    ("auth.login", "POST"): PUBLIC,
    ("auth.logout", "POST"): PUBLIC,
    ("auth.change_password", "GET"): SIGNED_IN,
    ("auth.change_password", "POST"): SIGNED_IN,
    ("resident.card", "GET"): PUBLIC,
    ("resident.manifest", "GET"): PUBLIC,
    ("resident.service_worker", "GET"): PUBLIC,
    ("resident.offline", "GET"): PUBLIC,
    ("resident.lookup", "GET"): PUBLIC,
    ("resident.lookup", "POST"): PUBLIC,
    ("resident.community", "GET"): PUBLIC,
    ("resident.large_type", "GET"): PUBLIC,
    ("admin.index", "GET"): STAFF,
    ("merchant.index", "GET"): SHOP,
    ("merchant.scan", "GET"): SHOP,
    ("merchant.card", "GET"): SHOP,
    ("merchant.history", "GET"): SHOP,
    ("merchant.card_typed", "POST"): SHOP,
    ("merchant.quote", "POST"): SHOP,
    ("merchant.redeem", "POST"): SHOP,
    ("merchant.done", "GET"): SHOP,
    ("merchant.void", "POST"): SHOP,
    ("merchant.campaigns", "GET"): SHOP,
    ("merchant.apply", "POST"): OWNER,
    ("merchant.keys", "GET"): OWNER,
    ("merchant.keys", "POST"): OWNER,
    ("merchant.revoke_key", "POST"): OWNER,
    ("api.openapi", "GET"): PUBLIC,
    ("api.quote", "POST"): API_KEY_ONLY,
    ("api.create_redemption", "POST"): API_KEY_ONLY,
    ("api.list_redemptions", "GET"): API_KEY_ONLY,
    ("api.void_redemption", "POST"): API_KEY_ONLY,
    # the community office (/admin) and the public application form (/join)
    ("join.join", "GET"): PUBLIC,
    ("join.join", "POST"): PUBLIC,
    ("join.done", "GET"): PUBLIC,
    ("admin.rule_preview", "GET"): STAFF,
    ("admin.merchants", "GET"): STAFF,
    ("admin.merchant_new", "GET"): ON_BEHALF,
    ("admin.merchant_new", "POST"): ON_BEHALF,
    ("admin.merchant_import", "GET"): ON_BEHALF,
    ("admin.merchant_import", "POST"): ON_BEHALF,
    ("admin.merchant_import_template", "GET"): STAFF,
    ("admin.merchant", "GET"): STAFF_OF_A,
    ("admin.merchant_edit", "GET"): WRITE_OF_A,
    ("admin.merchant_edit", "POST"): WRITE_OF_A,
    ("admin.merchant_approve", "POST"): WRITE_OF_A,
    ("admin.merchant_status", "POST"): WRITE_OF_A,
    ("admin.merchant_login_new", "POST"): WRITE_OF_A,
    ("admin.merchant_login_active", "POST"): WRITE_OF_A,
    ("admin.merchant_login_password", "POST"): WRITE_OF_A,
    ("admin.campaigns", "GET"): STAFF,
    ("admin.campaign_new", "GET"): ON_BEHALF,
    ("admin.campaign_new", "POST"): ON_BEHALF,
    ("admin.campaign", "GET"): STAFF_OF_A,
    ("admin.campaign_edit", "GET"): WRITE_OF_A,
    ("admin.campaign_edit", "POST"): WRITE_OF_A,
    ("admin.campaign_status", "POST"): WRITE_OF_A,
    ("admin.campaign_delete", "POST"): WRITE_OF_A,
    ("admin.offer_new", "GET"): WRITE_OF_A,
    ("admin.offer_new", "POST"): WRITE_OF_A,
    ("admin.offer_edit", "GET"): WRITE_OF_A,
    ("admin.offer_edit", "POST"): WRITE_OF_A,
    ("admin.offer_status", "POST"): WRITE_OF_A,
    ("admin.batch_new", "POST"): WRITE_OF_A,
    ("admin.batch", "GET"): STAFF_OF_A,
    ("admin.batch_print", "GET"): WRITE_OF_A,
    ("admin.cards", "GET"): STAFF,
    ("admin.card", "GET"): STAFF_OF_A,
    ("admin.card_void", "POST"): WRITE_OF_A,
    ("admin.card_replace", "POST"): WRITE_OF_A,
    ("admin.card_release_pin", "POST"): WRITE_OF_A,
    ("admin.issue", "GET"): WRITE,
    ("admin.issue", "POST"): WRITE,
    ("admin.issue_sheet", "GET"): WRITE,
    ("admin.issue_sheet", "POST"): WRITE,
    ("admin.issue_template", "GET"): STAFF,
    ("admin.dashboard", "GET"): STAFF,
    ("admin.settlement", "GET"): STAFF_OF_A,
    ("admin.settlement_statement", "GET"): STAFF_OF_A,
    ("admin.redemptions", "GET"): STAFF,
    ("admin.redemption", "GET"): STAFF_OF_A,
    ("admin.redemption_void", "POST"): WRITE_OF_A,
    ("admin.attempts", "GET"): STAFF,
    ("admin.audit", "GET"): STAFF,
    ("admin.communities", "GET"): DISTRICT,
    ("admin.community_new", "GET"): DISTRICT,
    ("admin.community_new", "POST"): DISTRICT,
    ("admin.community", "GET"): DISTRICT,
    ("admin.community", "POST"): DISTRICT,
    ("admin.community_edit", "GET"): DISTRICT,
    ("admin.community_edit", "POST"): DISTRICT,
    ("admin.staff_active", "POST"): DISTRICT,
    ("admin.community_archive", "POST"): DISTRICT,
    ("admin.streets", "GET"): DISTRICT,
    ("admin.street_new", "GET"): DISTRICT,
    ("admin.street_new", "POST"): DISTRICT,
    ("admin.street", "GET"): DISTRICT,
    ("admin.street", "POST"): DISTRICT,
    ("admin.street_edit", "GET"): DISTRICT,
    ("admin.street_edit", "POST"): DISTRICT,
    ("admin.street_move", "POST"): DISTRICT,
    ("admin.street_staff_active", "POST"): DISTRICT,
    ("admin.compare", "GET"): STREET,
    ("admin.compare_district", "GET"): DISTRICT,
    ("admin.report", "GET"): STAFF,  # without ?community=: the user's own, or the first seen
    ("admin.report_send", "POST"): {**WRITE_OF_A, "district_admin": 403},
    ("admin.street_report", "GET"): {**STREET, "street_b": 404},
    # the help board: residents at /aid, the office at /admin/aid
    ("aid.join", "GET"): PUBLIC,
    ("aid.join", "POST"): PUBLIC,
    ("aid.board", "GET"): RESIDENT,
    ("aid.post_new", "GET"): RESIDENT,
    ("aid.post_new", "POST"): RESIDENT,
    ("aid.post", "GET"): RESIDENT,
    ("aid.take", "POST"): RESIDENT,
    ("aid.done", "POST"): RESIDENT,
    ("aid.cancel", "GET"): RESIDENT,
    ("aid.cancel", "POST"): RESIDENT,
    ("aid.release", "POST"): RESIDENT,
    ("aid.my_points", "GET"): RESIDENT,
    ("aid.exchange", "GET"): RESIDENT,
    ("aid.exchange", "POST"): RESIDENT,
    ("admin.aid_posts", "GET"): STAFF,
    ("admin.aid_post", "GET"): STAFF_OF_A,
    ("admin.aid_post_confirm", "POST"): WRITE_OF_A,
    ("admin.aid_post_hide", "POST"): WRITE_OF_A,
    ("admin.aid_post_unhide", "POST"): WRITE_OF_A,
    ("admin.aid_residents", "GET"): STAFF,
    ("admin.aid_resident", "GET"): STAFF_OF_A,
    ("admin.aid_resident_confirm", "POST"): WRITE_OF_A,
    ("admin.aid_resident_active", "POST"): WRITE_OF_A,
    ("admin.aid_resident_password", "POST"): WRITE_OF_A,
    ("admin.aid_resident_points", "POST"): WRITE_OF_A,
    ("admin.aid_resident_household", "POST"): WRITE_OF_A,
    ("admin.aid_resident_new", "GET"): DESK,
    ("admin.aid_resident_new", "POST"): DESK,
    ("admin.aid_post_for", "GET"): DESK_OF_A,
    ("admin.aid_post_for", "POST"): DESK_OF_A,
    ("admin.aid_post_done_for", "POST"): DESK_OF_A,
    ("admin.aid_post_cancel_for", "POST"): DESK_OF_A,
    ("admin.aid_exchange_for", "POST"): DESK_OF_A,
    ("admin.card_print", "GET"): PRINT_OF_A,
    ("admin.aid_exchange", "GET"): STAFF,
    ("admin.aid_campaign_exchange", "POST"): WRITE_OF_A,
    ("admin.aid_leaderboard", "POST"): WRITE_OF_A,
    # the household roster, who a campaign's cards go to, hand-out lists and waves: the office's
    # own work with households' names, which street staff neither read nor change
    ("admin.households", "GET"): WRITE,
    ("admin.household_new", "GET"): WRITE,
    ("admin.household_new", "POST"): WRITE,
    ("admin.household", "GET"): WRITE_OF_A,
    ("admin.household", "POST"): WRITE_OF_A,
    ("admin.household_erase", "POST"): WRITE_OF_A,
    ("admin.household_import", "GET"): WRITE,
    ("admin.household_import", "POST"): WRITE,
    ("admin.household_import_apply", "POST"): WRITE,
    ("admin.household_import_template", "GET"): STAFF,
    ("admin.campaign_eligibility", "GET"): WRITE_OF_A,
    ("admin.campaign_eligibility", "POST"): WRITE_OF_A,
    ("admin.campaign_waves", "GET"): WRITE_OF_A,
    ("admin.campaign_waves", "POST"): WRITE_OF_A,
    ("admin.handout_lists", "GET"): WRITE_OF_A,
    ("admin.handout_lists", "POST"): WRITE_OF_A,
    ("admin.handout", "GET"): WRITE_OF_A,
    ("admin.handout_received", "POST"): WRITE_OF_A,
    ("admin.handout_scan", "POST"): WRITE_OF_A,
    ("admin.handout_close", "POST"): WRITE_OF_A,
    ("admin.handout_print", "GET"): WRITE_OF_A,
    # volunteers: on their phones at /v (and /V/<token> from an activity's QR), the office's pages
    ("volunteer.board", "GET"): RESIDENT,
    ("volunteer.activity", "GET"): RESIDENT,
    ("volunteer.count", "GET"): RESIDENT,
    ("volunteer.sign_up", "POST"): RESIDENT,
    ("volunteer.withdraw", "POST"): RESIDENT,
    ("volunteer.register", "GET"): RESIDENT,
    ("volunteer.register", "POST"): RESIDENT,
    ("volunteer.join", "GET"): PUBLIC,
    ("volunteer.join", "POST"): PUBLIC,
    ("volunteer.units", "GET"): PUBLIC,
    ("volunteer.on_site", "GET"): RESIDENT,
    ("volunteer.check_in", "POST"): RESIDENT,
    ("volunteer.check_out", "POST"): RESIDENT,
    ("volunteer.scan", "GET"): RESIDENT,
    ("volunteer.scan_open", "GET"): RESIDENT,
    ("volunteer.hours", "GET"): RESIDENT,
    ("volunteer.hours", "POST"): RESIDENT,
    ("volunteer.certificate", "GET"): {**RESIDENT, "resident": 404},  # someone else's
    ("volunteer.check", "GET"): PUBLIC,
    ("admin.volunteers_roster", "GET"): STAFF,
    ("admin.volunteer_new", "GET"): WRITE,
    ("admin.volunteer_new", "POST"): WRITE,
    ("admin.volunteer_detail", "GET"): STAFF_OF_A,
    ("admin.volunteer_move", "POST"): WRITE_OF_A,
    ("admin.volunteer_password", "POST"): WRITE_OF_A,
    ("admin.volunteer_certificate_issue", "POST"): WRITE_OF_A,
    ("admin.volunteer_certificate", "GET"): STAFF_OF_A,
    ("admin.volunteer_units", "GET"): STAFF,
    ("admin.volunteer_unit_new", "GET"): WRITE,
    ("admin.volunteer_unit_new", "POST"): WRITE,
    ("admin.volunteer_unit", "GET"): WRITE_OF_A,
    ("admin.volunteer_unit", "POST"): WRITE_OF_A,
    ("admin.volunteer_unit_print", "GET"): STAFF_OF_A,
    ("admin.volunteer_activities", "GET"): STAFF,
    ("admin.volunteer_activity_new", "GET"): WRITE,
    ("admin.volunteer_activity_new", "POST"): WRITE,
    ("admin.volunteer_activity", "GET"): STAFF_OF_A,
    ("admin.volunteer_activity_edit", "GET"): WRITE_OF_A,
    ("admin.volunteer_activity_edit", "POST"): WRITE_OF_A,
    ("admin.volunteer_activity_mark", "POST"): WRITE_OF_A,
    ("admin.volunteer_activity_correct", "POST"): WRITE_OF_A,
    ("admin.volunteer_activity_add", "POST"): WRITE_OF_A,
    ("admin.volunteer_activity_close", "POST"): WRITE_OF_A,
    ("admin.volunteer_activity_cancel", "POST"): WRITE_OF_A,
    ("admin.volunteer_activity_notice", "GET"): STAFF_OF_A,
    # paper: the passbook is the office's to hand over (street staff do not print it)
    ("admin.aid_resident_passbook", "GET"): WRITE_OF_A,
    ("admin.card_statement", "GET"): STAFF_OF_A,
    ("admin.merchant_sticker", "GET"): STAFF_OF_A,
    ("admin.community_poster", "GET"): STAFF_OF_A,
    ("admin.community_poster_phone", "POST"): WRITE_OF_A,
    ("aid.my_passbook", "GET"): RESIDENT,  # the signed-in resident's own: no id in the URL
    ("resident.card_statement", "GET"): PUBLIC,  # whoever holds the QR holds the card
    ("merchant.sticker", "GET"): SHOP,  # the signed-in shop's own: no id in the URL
    ("admin.volunteer_hours", "GET"): STAFF,
}
# Routes whose URL names an action: the action the matrix tries.
ACTIONS = {
    "admin.merchant_status": "suspend",
    "admin.merchant_login_active": "disable",
    "admin.campaign_status": "pause",
    "admin.offer_status": "withdraw",
    "admin.staff_active": "disable",
    "admin.community_archive": "restore",  # archiving A would hide its pages from later routes
    "admin.street_staff_active": "disable",
    "admin.aid_resident_active": "disable",
    "admin.volunteer_move": "disable",
    "admin.volunteer_activity_mark": "out",
}
SKIPPED = {"static"}  # files, not pages


@pytest.fixture
def world(
    db,
    community,
    other_community,
    shop,
    merchant_user,
    cashier_user,
    staff_user,
    other_staff_user,
    street_staff_user,
    other_street_staff_user,
    district_admin_user,
):
    """Community A with a shop, a campaign, a card, a redemption and a till key; community B.

    Street A (琴断口街) holds community A and lets its staff act for it; street B (江堤街) holds
    community B and does not."""
    campaign = factories.campaign(community)
    offer = factories.offer(campaign, shop, "8折")
    card = factories.cards(campaign, 2)[0]
    made = redeem(db.session, card.token, shop, cashier_user, 10000, "matrix-000001")
    key, _plain = apikeys.create_key(db.session, merchant_user, "前台")
    resident = factories.resident(community, "13900000009", "3-2-501", "王小明")
    neighbour = factories.resident(community, "13900000008", "5-1-302", "李红")
    post = factories.help_post(neighbour)
    factories.merchant(other_community, "江堤小吃店")
    community.street.staff_may_act = True
    household = roster.add_household(
        db.session, staff_user, community.id, HouseholdFields.read("3-2-501", head_name="王秀英")
    )
    factories.cards(campaign, 1, issued=False)
    handout_list = handout.make_list(db.session, staff_user, campaign, None, factories.a_date())
    volunteer = factories.volunteer(
        community, "13900000007", "张志愿", unit=factories.unit(community)
    )
    activity = factories.activity(community)
    signup = factories.signup(activity, volunteer)
    certificate = factories.certificate(volunteer)
    db.session.commit()
    users = {
        "resident": resident,
        "cashier": cashier_user,
        "merchant_owner": merchant_user,
        "staff_a": staff_user,
        "staff_b": other_staff_user,
        "street_a": street_staff_user,
        "street_b": other_street_staff_user,
        "district_admin": district_admin_user,
    }
    args = {
        "token": card.token,
        "redemption_id": made.id,
        "key_id": key.id,
        "code": "en",
        "slug": community.slug,
        "state": "on",
        "merchant_id": shop.id,
        "campaign_id": campaign.id,
        "offer_id": offer.id,
        "batch_id": card.batch_id,
        "card_id": card.id,
        "community_id": community.id,
        "street_id": community.street_id,
        "year": 2026,
        "month": 11,
        "user_id": cashier_user.id,
        "post_id": post.id,
        "resident_id": resident.id,
        "household_id": household.id,
        "handout_id": handout_list.id,
        "volunteer_id": volunteer.id,
        "unit_id": volunteer.unit_id,
        "activity_id": activity.id,
        "activity_token": activity.token,
        "signup_id": signup.id,
        "certificate_id": certificate.id,
        "serial": certificate.serial,
    }
    return users, args


def url_for_rule(rule, args):
    if rule.endpoint in ACTIONS:
        args = {**args, "action": ACTIONS[rule.endpoint]}
    missing = [name for name in rule.arguments if name not in args]
    assert not missing, (
        f"{rule.rule}: add a value for {missing} to the world fixture's args in "
        "tests/test_access_matrix.py"
    )
    values = {name: args[name] for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def outcome(response) -> str | int:
    if response.status_code in (401, 403, 404, 405):
        return response.status_code
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and location.startswith("/login"):
        return LOGIN
    assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
    return OK


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_an_entry_in_the_matrix(app):
    missing = sorted(
        f"{r.endpoint} {m} {r.rule}" for r, m in routes(app) if (r.endpoint, m) not in MATRIX
    )
    assert not missing, "decide who may use these routes and add them to MATRIX:\n" + "\n".join(
        missing
    )
    stale = set(MATRIX) - {(r.endpoint, m) for r, m in routes(app)}
    assert not stale, f"entries for routes that no longer exist: {sorted(stale)}"


def counts(db):
    db.session.rollback()
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Redemption, Card, Merchant, User, ApiKey, AuditLog)
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_what_the_matrix_says_on_every_route(app, db, world, role, tally):
    users, args = world
    wrong = []
    for rule, method in routes(app):
        # a client of its own per request: signing out or switching language must not carry over
        client = app.test_client() if role == "anonymous" else login(app, users[role])
        expected = MATRIX[(rule.endpoint, method)][role]
        url = url_for_rule(rule, args)
        before = counts(db) if expected != OK else None
        if method == "GET":
            response = client.get(url)
        else:  # with a valid CSRF token, so that what is tested is who may, not the token
            response = client.post(url, data={})
        got = outcome(response)
        tally["access matrix: route x role checked"] += 1
        if got != expected:
            wrong.append(f"{method} {url}: expected {expected}, got {got}")
        if before is not None and method != "GET":
            assert counts(db) == before, f"{method} {url} as {role} was refused but changed data"
    assert not wrong, f"as {role}:\n" + "\n".join(wrong)
