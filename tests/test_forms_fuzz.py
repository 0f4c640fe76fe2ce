"""Every form of the site under generated input: no 500, and a refused post changes nothing.

For each POST route (found in `app.url_map`, so a new form is fuzzed without anyone asking),
hypothesis sends forms built from the field names of every form in the app, filled with hostile
text — empty, huge, control characters, right-to-left marks, emoji, markup, numbers that are
not, dates that are not — as the first role the access matrix lets through. Whatever comes
back must be below 500; whatever comes back with 4xx must leave every table as it was.
"""

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db as _db

from . import test_access_matrix as matrix
from .conftest import login
from .test_access_matrix import MATRIX, OK, url_for_rule

pytestmark = pytest.mark.slow  # fuzzing: `make test` runs it, `make test-fast` does not

world = matrix.world  # the access matrix's two communities, shop, card, redemption, key

ROLE_ORDER = ("staff_a", "merchant_owner", "district_admin", "cashier", "resident", "anonymous")
SKIPPED = {"auth.logout"}  # ends the session the other examples need; nothing to fuzz


def form_field_names() -> list[str]:
    """Return the field names of every WTForms form in the app."""
    import app.admin.forms  # noqa: F401 - load the forms so their classes exist
    import app.aid.forms  # noqa: F401
    import app.auth.forms  # noqa: F401
    import app.merchant.forms  # noqa: F401
    import app.resident.forms  # noqa: F401

    names, stack = set(), list(FlaskForm.__subclasses__())
    while stack:
        form = stack.pop()
        stack.extend(form.__subclasses__())
        names.update(name for name, value in vars(form).items() if hasattr(value, "field_class"))
    return sorted(names)


FIELDS = form_field_names()

hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "<script>alert(1)</script>",
            '" onmouseover="alert(1)',
            '=HYPERLINK("http://evil")',
            "\u202e\u202dRTL\u200f",
            "😀" * 50,
            "汉" * 5000,
            "-1",
            "0",
            "1e309",
            "NaN",
            "99999999999999999999999",
            "1.2345",
            "2026-02-30",
            "9999-12-31",
            "ZJH-7K3M-Q9",
            "8折,最高减20",
            "满100减100",
            "on",
            "active",
        ]
    ),
)
forms = st.dictionaries(
    keys=st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=10)),
    values=hostile_text,
    max_size=8,
)


def post_routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "POST" in rule.methods and not rule.rule.startswith("/api/"):
            if rule.endpoint not in SKIPPED:
                yield rule


def counts(db):
    """Row counts of every table but the attempt log, which records refusals by design."""
    db.session.rollback()
    return tuple(
        db.session.scalar(select(func.count()).select_from(table))
        for table in _db.metadata.sorted_tables
        if table.name != "attempt_log"
    )


def test_every_form_route_is_fuzzed(app):
    assert len(list(post_routes(app))) >= 20


@pytest.mark.parametrize(
    "endpoint",
    sorted(
        {
            endpoint
            for (endpoint, method) in MATRIX
            if method == "POST" and endpoint not in SKIPPED and not endpoint.startswith("api.")
        }
    ),
)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=forms)
def test_no_form_answers_500_or_half_writes(app, db, world, endpoint, data, tally):
    users, args = world
    expectations = MATRIX[(endpoint, "POST")]
    role = next(r for r in ROLE_ORDER if expectations.get(r) == OK)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    client = app.test_client() if role == "anonymous" else login(app, users[role])
    before = counts(db)
    response = client.post(url_for_rule(rule, args), data=data)
    assert response.status_code < 500, (endpoint, data, response.text[:500])
    tally["forms: generated posts (hypothesis)"] += 1
    if response.status_code >= 400:
        assert counts(db) == before, f"{endpoint} refused {data!r} but changed data"
        tally["forms: refused posts, database checked unchanged"] += 1
