"""互看互比: the comparison's figures against sums worked out here from the rows the test made.

A random but seeded month of two streets: cards handed out, uses (some voided, some in the
month before), help confirmed, residents confirmed, a shop suspended and a draft campaign
(neither counts). The test keeps its own list of what it made and adds it up in Python.
"""

import csv
import io
import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from app.clock import LOCAL
from app.models import CampaignStatus, CardStatus, Funding, HelpStatus, MerchantStatus
from app.services import compare, misuse
from app.services.dashboard import Scope

from . import factories
from .conftest import login

TODAY = date(2026, 11, 20)
NOW = datetime.combine(TODAY, time(12, 0), tzinfo=LOCAL).astimezone(UTC)
PERIOD = compare.Period.of_month(date(2026, 11, 1), TODAY)
FIRST = date(2026, 10, 1)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _moment(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=LOCAL).astimezone(UTC)


def _day(rng) -> date:
    return FIRST + timedelta(days=rng.randrange((TODAY - FIRST).days + 1))


@pytest.fixture
def made(db, frozen, community, other_community):
    """Three communities in two streets, with what the test made kept in `made`."""
    rng = random.Random(19)
    qilimiao = factories.community("七里庙社区", slug="qilimiao", street="琴断口街", households=800)
    community.households = 1200
    other_community.households = 950
    db.session.commit()
    made = {"communities": [community, qilimiao, other_community], "uses": [], "cards": []}
    made["help"], made["residents"], made["shops"] = [], [], {}
    for n, place in enumerate(made["communities"]):
        shops = [factories.merchant(place, f"{place.name}店{i}") for i in range(3)]
        shops[2].status = MerchantStatus.SUSPENDED
        funded = {Funding.MERCHANT: f"M{n}", Funding.COMMUNITY: f"C{n}"}
        campaigns = [
            factories.campaign(place, name=f"活动{code}", code=f"Q{code}", funding=funding)
            for funding, code in funded.items()
        ]
        draft = factories.campaign(place, name="草稿", code=f"D{n}", status=CampaignStatus.DRAFT)
        for campaign in campaigns:
            for shop in shops:
                factories.offer(campaign, shop)
        factories.offer(draft, factories.merchant(place, f"{place.name}只在草稿里"))
        # the suspended shop and the draft's shop do not count, nor days before the campaigns
        made["shops"][place.id] = (2, min(c.valid_from for c in campaigns))
        for campaign in campaigns:
            for card in factories.cards(campaign, 6, household_prefix=f"{n}-1-"):
                card.issued_at = _moment(_day(rng))
                card.household = f"{n}-1-{rng.randrange(5)}"  # some households get two
                made["cards"].append(card)
                for _use in range(rng.randrange(5)):
                    bill = rng.randrange(100, 30_000)
                    use = factories.redemption(
                        card,
                        shops[rng.randrange(2)],
                        bill,
                        rng.randrange(bill // 3),
                        day=_day(rng),
                        status="void" if rng.random() < 0.15 else "ok",
                        at_hour=rng.randrange(8, 20),
                        key=f"u{len(made['uses'])}",
                    )
                    made["uses"].append((use, campaign.funding))
        never = factories.cards(campaigns[0], 2, issued=False)  # printed, not handed out
        assert all(c.status == CardStatus.NEW for c in never)
        neighbours = [
            factories.resident(place, f"139{n:02d}0000{i:02d}", f"{i}-2-101", f"居民{i}")
            for i in range(4)
        ]
        for person in neighbours:
            person.confirmed_at = _moment(_day(rng))
            made["residents"].append(person)
        for i in range(5):
            post = factories.help_post(
                neighbours[i % 4],
                title=f"帮忙{i}",
                status=HelpStatus.CONFIRMED,
                taker_id=neighbours[(i + 1) % 4].id,
                minutes=rng.randrange(10, 180),
                closed_at=_moment(_day(rng), 15),
            )
            made["help"].append(post)
        db.session.commit()
    return made


def expected(made, place, start, end) -> dict[str, int]:
    """Add up what the test made for one community and period, without the app's queries."""
    since, until = _moment(start, 0), _moment(end + timedelta(days=1), 0)
    live = [
        (u, funding)
        for u, funding in made["uses"]
        if u.community_id == place.id and u.status.value == "ok" and start <= u.local_day <= end
    ]
    cards = [c for c in made["cards"] if c.community_id == place.id]
    help_done = [
        p for p in made["help"] if p.community_id == place.id and since <= p.closed_at < until
    ]
    return {
        "shops": made["shops"][place.id][0] if made["shops"][place.id][1] <= end else 0,
        "cards_issued": sum(since <= c.issued_at < until for c in cards),
        "households_reached": len({c.household for c in cards if c.issued_at < until}),
        "cards_used": len({u.card_id for u, _f in live}),
        "uses": len(live),
        "bills": sum(u.bill_fen for u, _f in live),
        "merchant_discounts": sum(u.discount_fen for u, f in live if f == Funding.MERCHANT),
        "community_discounts": sum(u.discount_fen for u, f in live if f == Funding.COMMUNITY),
        "help_done": len(help_done),
        "help_minutes": sum(p.minutes for p in help_done),
        "residents": sum(
            1 for r in made["residents"] if r.community_id == place.id and r.confirmed_at < until
        ),
    }


def test_a_street_comparison_adds_up_to_the_rows(db, made, frozen):
    places = made["communities"][:2]  # 琴断口街
    result = compare.compare_communities(db.session, places, PERIOD)
    for row, place in zip(result.rows, places, strict=True):
        now = expected(made, place, PERIOD.start, PERIOD.end)
        before = expected(made, place, PERIOD.previous_start, PERIOD.previous_end)
        for key, value in now.items():
            assert row.cells[key].value == value, (place.name, key)
            assert row.cells[key].previous == before[key], (place.name, key, "previous")
        found = misuse.findings(db.session, Scope(place.id, None, PERIOD.start, PERIOD.end))
        assert row.cells["misuse"].value == len(found)
    for key in expected(made, places[0], PERIOD.start, PERIOD.end):
        assert result.total.cells[key].value == sum(r.cells[key].value for r in result.rows)
    assert PERIOD.previous_start == date(2026, 10, 1)
    assert PERIOD.previous_end == date(2026, 10, 20)


def test_uses_of_closed_days_come_from_the_summary_and_still_add_up(db, made, frozen):
    """Days two days old are read from the daily summary: the figures must not change."""
    place = made["communities"][0]
    first = compare.compare_communities(db.session, [place], PERIOD).rows[0]
    second = compare.compare_communities(db.session, [place], PERIOD).rows[0]  # summary made
    assert {k: c.value for k, c in first.cells.items()} == {
        k: c.value for k, c in second.cells.items()
    }


def test_the_district_sets_its_streets_side_by_side_as_sums(db, made, frozen):
    result = compare.compare_streets(db.session, "汉阳区", PERIOD)
    by_name = {row.name: row for row in result.rows}
    assert set(by_name) == {"琴断口街", "江堤街"}
    zjh, qlm, jb = made["communities"]
    for street, places in (("琴断口街", [zjh, qlm]), ("江堤街", [jb])):
        want = [expected(made, p, PERIOD.start, PERIOD.end) for p in places]
        for key in want[0]:
            assert by_name[street].cells[key].value == sum(w[key] for w in want), (street, key)
    assert by_name["琴断口街"].households == 2000 and by_name["琴断口街"].members == 2


def test_ranks_change_and_per_household_figures(db, made, frozen):
    places = made["communities"][:2]
    result = compare.compare_communities(db.session, places, PERIOD)
    for m in result.measures:
        values = [r.cells[m.key].value for r in result.rows]
        best = (max if m.higher_is_better else min)(values)
        assert {r.cells[m.key].rank for r in result.rows if r.cells[m.key].value == best} == {1}
    row = result.rows[0]
    bills = row.cells["bills"]
    assert compare.per_household(bills, compare.measure("bills")) == (bills.value + 600) // 1200
    reached = row.cells["households_reached"]
    share = compare.per_household(reached, compare.measure("households_reached"))
    assert share == (reached.value * 1000 + 600) // 1200  # tenths of a percent
    assert compare.per_household(row.cells["shops"], compare.measure("shops")) is None
    uses = row.cells["uses"]  # counts: tenths per hundred households
    assert compare.per_household(uses, compare.measure("uses")) == (uses.value * 1000 + 600) // 1200


def test_a_module_adds_a_measure_and_every_page_shows_it(db, made, frozen, app):
    extra = compare.Measure(
        "open_posts", "Open posts", "Posts still open.", "int", lambda ctx: {i: 7 for i in ctx.ids}
    )
    compare.register(extra, after="help_minutes")
    try:
        keys = [m.key for m in compare.MEASURES]
        assert keys.index("open_posts") == keys.index("help_minutes") + 1
        result = compare.compare_communities(db.session, made["communities"][:1], PERIOD)
        assert result.rows[0].cells["open_posts"].value == 7
        with pytest.raises(ValueError, match="already"):
            compare.register(extra)
    finally:
        compare.MEASURES.remove(extra)


def test_street_staff_see_their_street_and_download_the_same_figures(app, db, made, frozen):
    street = made["communities"][0].street
    staff = login(app, factories.street_staff(street, "qinduankou"))
    page = staff.get("/admin/compare?month=2026-11")
    assert page.status_code == 200
    assert "七里庙社区" in page.text and "江博社区" not in page.text
    assert "带动消费" in page.text and "<svg" in page.text
    # another street asked for by id: still their own
    other = made["communities"][2].street_id
    assert "江博社区" not in staff.get(f"/admin/compare?street={other}").text
    sheet = staff.get("/admin/compare?month=2026-11&export=csv").data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(sheet)))
    head, rows = lines[0], {line[0]: line for line in lines[1:]}
    for place in made["communities"][:2]:
        want = expected(made, place, PERIOD.start, PERIOD.end)
        uses = rows[place.name][head.index("核销次数")]
        assert int(uses) == want["uses"]
    assert "江博社区" not in rows
    assert staff.get("/admin/compare/district").status_code == 403


def test_community_staff_do_not_open_the_comparison(staff):
    assert staff.get("/admin/compare").status_code == 403


def test_the_district_page_links_each_street(frozen, district_admin, db, made):
    page = district_admin.get("/admin/compare/district?month=2026-11")
    assert page.status_code == 200
    assert "琴断口街" in page.text and "江堤街" in page.text
    xlsx = district_admin.get("/admin/compare/district?month=2026-11&export=xlsx")
    assert xlsx.headers["Content-Type"].startswith("application/vnd.openxmlformats")


def test_a_bad_period_is_refused_with_a_message_not_a_500(frozen, district_admin, made):
    page = district_admin.get(
        "/admin/compare/district?from=2026-11-20&to=2026-11-01", follow_redirects=True
    )
    assert page.status_code == 200
    assert "不能早于" in page.text
    assert district_admin.get("/admin/compare/district?month=9999-99").status_code == 200
    assert district_admin.get("/admin/compare/district?sort=-nonsense").status_code == 200
