"""The till API under generated requests (schemathesis from its own OpenAPI document).

Whatever arrives — well formed or not, with any card, bill, key or reason — the API answers with
one of the statuses its document names, never a 500, and a refused request writes nothing.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from sqlalchemy import func, select

from app.api.openapi import document
from app.models import AuditLog, Card, Redemption
from app.services import apikeys

from . import factories

pytestmark = pytest.mark.slow  # fuzzing: `make test` runs it, `make test-fast` does not

# The document is static; which app answers is set per test (schemathesis's fixture loader
# does not work with this pytest).
schema = schemathesis.openapi.from_dict(document())


@pytest.fixture
def key(db, community, shop, merchant_user):
    campaign = factories.campaign(community, rule="8折,最高减20")
    factories.offer(campaign, shop)
    factories.cards(campaign, 5)
    _row, plaintext = apikeys.create_key(db.session, merchant_user, "fuzz")
    db.session.commit()
    return plaintext


def counts(db):
    db.session.rollback()
    return tuple(
        db.session.scalar(select(func.count()).select_from(m)) for m in (Redemption, AuditLog)
    ) + (db.session.scalar(select(func.coalesce(func.sum(Card.uses_count), 0))),)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_never_fails_on_generated_requests(case, app, key, db, tally):
    before = counts(db)
    case.operation.schema.app = app  # answer in-process, through this test's app
    response = case.call_and_validate(
        app=app,
        headers={"Authorization": f"Bearer {key}"},
        # The API ignores fields and query parameters it does not know (a till sending more than
        # it must is not refused); everything it does read is checked.
        excluded_checks=[schemathesis.checks.negative_data_rejection],
    )
    tally["API: generated requests (schemathesis)"] += 1
    if response.status_code >= 400:
        assert counts(db) == before, "a refused request changed the database"
        tally["API: refused requests, database checked unchanged"] += 1
