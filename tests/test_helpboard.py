"""The help board's rules: every move of a post's state machine, allowed and refused, who sees
whose contact, points earned on confirmation, hiding, and one community never reaching into
another's board."""

from functools import partial

import pytest
from sqlalchemy import func, select

from app.models import AuditLog, HelpPost, HelpStatus, PointsEntry, PointsKind, User
from app.services import helpboard, points
from app.services.helpboard import HelpError, PostDetails

from . import calls, factories
from .calls import run
from .concurrently import run_together

refused = partial(calls.refused, error=HelpError)  # the help board's own refusals


@pytest.fixture
def asker(community):
    return factories.resident(community, "13900000001", "3-2-501", "王小明")


@pytest.fixture
def helper(community):
    return factories.resident(community, "13900000002", "5-1-302", "李红")


@pytest.fixture
def third(community):
    return factories.resident(community, "13900000003", "7-3-101", "张三")


def post_in(db, status, asker, helper, kind="request"):
    post = factories.help_post(asker, kind=kind)
    if status == "open":
        return post
    run(db, helpboard.take, helper, post)
    if status == "taken":
        return post
    helped = asker if kind == "request" else helper
    run(db, helpboard.mark_done, helped, post)
    return post


def test_a_confirmed_resident_posts_a_request_on_their_board(db, asker):
    details = PostDetails("request", "medicine", "  帮忙 送药  ", "降压药", "今天下午", "3栋")
    post = run(db, helpboard.create_post, asker, details)
    assert (post.status, post.title, post.community_id) == (
        HelpStatus.OPEN,
        "帮忙 送药",
        asker.community_id,
    )
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.object_id == post.id)) == (
        "help.post"
    )


def test_a_resident_not_yet_confirmed_cannot_post_or_take(db, community, asker):
    pending = factories.resident(community, "13900000009", confirmed=False)
    refused(
        db, "not_confirmed", helpboard.create_post, pending, PostDetails("offer", "repair", "修车")
    )
    post = factories.help_post(asker)
    refused(db, "not_confirmed", helpboard.take, pending, post)


@pytest.mark.parametrize(
    ("details", "code"),
    [
        (PostDetails("ask", "shopping", "买菜"), "kind_invalid"),
        (PostDetails("request", "dancing", "买菜"), "category_invalid"),
        (PostDetails("request", "shopping", "   "), "title_required"),
        (PostDetails("request", "shopping", "买" * 81), "title_too_long"),
        (PostDetails("request", "shopping", "买菜", "x" * 1001), "details_too_long"),
        (PostDetails("request", "shopping", "买菜", when_text="x" * 81), "when_too_long"),
        (PostDetails("request", "shopping", "买菜", area="x" * 81), "area_too_long"),
    ],
)
def test_a_post_that_says_too_little_or_too_much_is_refused(db, asker, details, code):
    refused(db, code, helpboard.create_post, asker, details)
    assert db.session.scalar(select(func.count(HelpPost.id))) == 0


def test_the_whole_way_of_a_request_earns_the_helper_points(db, staff_user, asker, helper):
    post = factories.help_post(asker, category="escort")
    run(db, helpboard.take, helper, post)
    assert (post.status, post.taker_id) == (HelpStatus.TAKEN, helper.id)
    run(db, helpboard.mark_done, asker, post)
    assert post.status == HelpStatus.DONE
    run(db, helpboard.confirm, staff_user, post, 90)
    assert (post.status, post.minutes, post.points) == (HelpStatus.CONFIRMED, 90, 23)  # 15/h
    db.session.refresh(helper)
    assert helper.points_balance == 23 == points.ledger_sum(db.session, helper.id)
    entry = db.session.scalar(select(PointsEntry).where(PointsEntry.post_id == post.id))
    assert (entry.user_id, entry.kind, entry.amount) == (helper.id, PointsKind.EARNED, 23)
    assert db.session.get(User, asker.id).points_balance == 0
    actions = db.session.scalars(
        select(AuditLog.action).where(AuditLog.object_type == "help_post").order_by(AuditLog.id)
    ).all()
    assert actions == ["help.take", "help.done", "help.confirm"]


def test_an_offer_earns_its_author_and_is_marked_done_by_the_one_helped(
    db, staff_user, asker, helper
):
    post = factories.help_post(helper, kind="offer", category="repair", title="周六修自行车")
    run(db, helpboard.take, asker, post)
    refused(db, "not_helped", helpboard.mark_done, helper, post)
    run(db, helpboard.mark_done, asker, post)
    run(db, helpboard.confirm, staff_user, post, 60)
    db.session.refresh(helper)
    assert helper.points_balance == 12


# Every (state, move, who) that is refused, with its code.
REFUSALS = [
    ("open", "take", "asker", "own_post"),
    ("open", "done", "asker", "not_taken"),
    ("open", "confirm", "staff", "not_done"),
    ("taken", "take", "third", "not_open"),
    ("taken", "take", "helper", "not_open"),
    ("taken", "done", "helper", "not_helped"),
    ("taken", "done", "third", "not_helped"),
    ("taken", "cancel", "helper", "author_only"),
    ("taken", "confirm", "staff", "not_done"),
    ("done", "take", "third", "not_open"),
    ("done", "done", "asker", "not_taken"),
    ("done", "cancel", "asker", "not_cancellable"),
    ("confirmed", "take", "third", "not_open"),
    ("confirmed", "done", "asker", "not_taken"),
    ("confirmed", "cancel", "asker", "not_cancellable"),
    ("confirmed", "confirm", "staff", "not_done"),
    ("cancelled", "take", "third", "not_open"),
    ("cancelled", "done", "asker", "not_taken"),
    ("cancelled", "cancel", "asker", "not_cancellable"),
    ("cancelled", "confirm", "staff", "not_done"),
    ("open", "cancel", "helper", "author_only"),
    ("open", "release", "helper", "not_releasable"),
    ("taken", "release", "asker", "taker_only"),
    ("taken", "release", "third", "taker_only"),
    ("done", "release", "helper", "not_releasable"),
    ("confirmed", "release", "helper", "not_releasable"),
    ("cancelled", "release", "helper", "not_releasable"),
]
# Every (state, move, who) that is allowed, with the state it leads to.
ALLOWED = [
    ("open", "take", "helper", HelpStatus.TAKEN),
    ("open", "cancel", "asker", HelpStatus.CANCELLED),
    ("taken", "done", "asker", HelpStatus.DONE),
    ("taken", "cancel", "asker", HelpStatus.CANCELLED),
    ("taken", "release", "helper", HelpStatus.OPEN),
    ("done", "confirm", "staff", HelpStatus.CONFIRMED),
]
MOVES = {
    "take": lambda who, post: (helpboard.take, who, post),
    "done": lambda who, post: (helpboard.mark_done, who, post),
    "cancel": lambda who, post: (helpboard.cancel, who, post),
    "release": lambda who, post: (helpboard.release, who, post),
    "confirm": lambda who, post: (helpboard.confirm, who, post, 30),
}


def reach(db, state, people):
    post = post_in(db, "open" if state == "cancelled" else state, people["asker"], people["helper"])
    if state == "cancelled":
        run(db, helpboard.cancel, people["asker"], post)
    if state == "confirmed":
        run(db, helpboard.confirm, people["staff"], post, 30)
    return post


@pytest.fixture
def people(staff_user, asker, helper, third):
    return {"staff": staff_user, "asker": asker, "helper": helper, "third": third}


@pytest.mark.parametrize(("state", "move", "who", "code"), REFUSALS)
def test_every_refused_move_is_refused_and_changes_nothing(db, people, state, move, who, code):
    post = reach(db, state, people)
    before = (post.status, post.taker_id, db.session.scalar(select(func.count(AuditLog.id))))
    refused(db, code, *MOVES[move](people[who], post))
    db.session.refresh(post)
    assert (post.status, post.taker_id, db.session.scalar(select(func.count(AuditLog.id)))) == (
        before
    )
    assert db.session.get(HelpPost, post.id).status.value == state


@pytest.mark.parametrize(("state", "move", "who", "after"), ALLOWED)
def test_every_allowed_move_leads_where_it_should(db, people, state, move, who, after):
    post = reach(db, state, people)
    run(db, *MOVES[move](people[who], post))
    assert db.session.get(HelpPost, post.id).status == after


def test_the_time_confirmed_must_be_more_than_nothing_and_at_most_12_hours(db, people):
    post = reach(db, "done", people)
    for minutes in (None, 0, -30, 12 * 60 + 1):
        refused(db, "minutes_range", helpboard.confirm, people["staff"], post, minutes)
    assert db.session.scalar(select(func.count(PointsEntry.id))) == 0


def test_contacts_are_seen_by_the_two_only_once_the_post_is_taken(db, people):
    post = reach(db, "open", people)
    assert not any(helpboard.sees_contact(post, p) for p in people.values())
    run(db, helpboard.take, people["helper"], post)
    assert helpboard.sees_contact(post, people["asker"])
    assert helpboard.sees_contact(post, people["helper"])
    assert not helpboard.sees_contact(post, people["third"])
    assert not helpboard.sees_contact(post, None)


def test_a_hidden_post_cannot_be_taken_and_staff_can_put_it_back(db, people):
    post = reach(db, "open", people)
    refused(db, "reason_required", helpboard.hide, people["staff"], post, "  ")
    run(db, helpboard.hide, people["staff"], post, "广告")
    assert (post.hidden, post.hidden_reason) == (True, "广告")
    refused(db, "hidden", helpboard.take, people["helper"], post)
    refused(db, "already_hidden", helpboard.hide, people["staff"], post, "again")
    run(db, helpboard.unhide, people["staff"], post)
    refused(db, "not_hidden", helpboard.unhide, people["staff"], post)
    run(db, helpboard.take, people["helper"], post)


def test_another_communitys_residents_and_staff_cannot_reach_a_post(
    db, people, other_community, other_staff_user
):
    post = reach(db, "open", people)
    outsider = factories.resident(other_community, "13900000099", "1-1-101", "江博人")
    refused(db, "not_open", helpboard.take, outsider, post)
    run(db, helpboard.take, people["helper"], post)
    run(db, helpboard.mark_done, people["asker"], post)
    refused(db, "not_open", helpboard.confirm, other_staff_user, post, 60)
    refused(db, "not_open", helpboard.hide, other_staff_user, post, "x")
    assert db.session.get(HelpPost, post.id).status == HelpStatus.DONE


def test_points_follow_the_kind_of_help_and_the_time(db):
    from app.models import HelpCategory

    assert points.points_for(HelpCategory.SHOPPING, 60) == 10
    assert points.points_for(HelpCategory.ESCORT, 120) == 30
    assert points.points_for(HelpCategory.MEDICINE, 30) == 6
    assert points.points_for(HelpCategory.CARE, 1) == 1  # at least one point


@pytest.mark.slow
def test_neighbours_taking_one_post_at_the_same_time_leave_one_taker(app, db, community, asker):
    from app.extensions import db as _db

    takers = [
        factories.resident(community, f"1370000{i:04d}", f"{i}-1-101", f"邻居{i}").id
        for i in range(1, 9)
    ]
    post_id = factories.help_post(asker).id

    def attempt(i):
        user = _db.session.get(User, takers[i])
        helpboard.take(_db.session, user, _db.session.get(HelpPost, post_id))
        return "taken"

    results = run_together(app, len(takers), attempt)
    assert results.count("taken") == 1
    assert results.count("not_open") == len(takers) - 1
    db.session.rollback()
    post = db.session.get(HelpPost, post_id)
    assert post.taker_id == takers[results.index("taken")]
    takes = select(func.count(AuditLog.id)).where(AuditLog.action == "help.take")
    assert db.session.scalar(takes) == 1


def test_a_post_given_back_is_open_to_others_and_hides_the_contacts_again(db, people):
    post = reach(db, "taken", people)
    run(db, helpboard.release, people["helper"], post)
    post = db.session.get(HelpPost, post.id)
    assert (post.status, post.taker_id, post.taken_at) == (HelpStatus.OPEN, None, None)
    assert not any(helpboard.sees_contact(post, p) for p in people.values())
    run(db, helpboard.take, people["third"], post)
    assert db.session.get(HelpPost, post.id).taker_id == people["third"].id
    actions = db.session.scalars(
        select(AuditLog.action).where(AuditLog.object_type == "help_post").order_by(AuditLog.id)
    ).all()
    assert actions[-2:] == ["help.release", "help.take"]


@pytest.mark.parametrize(
    ("kind", "status", "age_hours", "stale"),
    [
        ("request", "open", 25, True),
        ("request", "open", 23, False),
        ("offer", "open", 25, False),
        ("request", "cancelled", 25, False),
    ],
)
def test_a_request_open_over_a_day_is_stale_in_the_list_and_on_the_post_alike(
    db, asker, kind, status, age_hours, stale
):
    from datetime import timedelta

    from app.clock import utcnow

    post = factories.help_post(asker, kind=kind)
    post.status = HelpStatus(status)
    post.created_at = utcnow() - timedelta(hours=age_hours)
    db.session.commit()
    assert helpboard.is_stale(post) is stale
    found = db.session.scalars(select(HelpPost.id).where(helpboard.stale(HelpPost))).all()
    assert found == ([post.id] if stale else [])
