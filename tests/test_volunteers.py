"""Volunteer services: sign-up cap and waiting list, check-in, hours, closing, certificates."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.clock import local_today
from app.extensions import db as _db
from app.models import (
    ActivityStatus,
    AuditLog,
    PointsEntry,
    PointsKind,
    SignupStatus,
    User,
    Volunteer,
    VolunteerActivity,
    VolunteerCorrection,
    VolunteerSignup,
    VolunteerStatus,
)
from app.services import points
from app.services import volunteers as service

from . import factories
from .calls import refused, run
from .concurrently import run_together

MINUTE = timedelta(minutes=1)


def user_of(volunteer) -> User:
    return _db.session.get(User, volunteer.user_id)


def signup_of(db, activity, volunteer) -> VolunteerSignup:
    db.session.rollback()
    return db.session.scalar(
        select(VolunteerSignup).where(
            VolunteerSignup.activity_id == activity.id,
            VolunteerSignup.volunteer_id == volunteer.id,
        )
    )


def statuses(db, activity) -> list[str]:
    db.session.rollback()
    return [
        s.status.value
        for s in db.session.scalars(
            select(VolunteerSignup)
            .where(VolunteerSignup.activity_id == activity.id)
            .order_by(VolunteerSignup.id)
        )
    ]


@pytest.fixture
def crew(community):
    return [factories.volunteer(community, f"1390000{i:04d}", f"志愿者{i}") for i in range(1, 13)]


# --- sign-up, cap and waiting list ----------------------------------------------------------


def test_sign_ups_beyond_the_number_needed_go_on_the_waiting_list_in_order(db, community, crew):
    activity = factories.activity(community, needed=2)
    for volunteer in crew[:4]:
        run(db, service.sign_up, user_of(volunteer), activity.id)
    assert statuses(db, activity) == ["signed", "signed", "waiting", "waiting"]
    third = signup_of(db, activity, crew[2])
    fourth = signup_of(db, activity, crew[3])
    assert service.waiting_position(db.session, third) == 1
    assert service.waiting_position(db.session, fourth) == 2


def test_signing_up_twice_is_one_sign_up(db, community, crew):
    activity = factories.activity(community, needed=2)
    first = run(db, service.sign_up, user_of(crew[0]), activity.id).id
    again = run(db, service.sign_up, user_of(crew[0]), activity.id).id
    assert first == again
    assert statuses(db, activity) == ["signed"]


def test_a_place_given_back_goes_to_the_first_who_waits(db, community, crew):
    activity = factories.activity(community, needed=1)
    for volunteer in crew[:3]:
        run(db, service.sign_up, user_of(volunteer), activity.id)
    run(db, service.withdraw, user_of(crew[0]), activity.id)
    assert statuses(db, activity) == ["withdrawn", "signed", "waiting"]
    promoted = db.session.scalar(
        select(func.count(AuditLog.id)).where(AuditLog.action == "signup.promote")
    )
    assert promoted == 1


def test_coming_back_after_withdrawing_joins_the_end_of_the_queue(db, community, crew):
    activity = factories.activity(community, needed=1)
    run(db, service.sign_up, user_of(crew[0]), activity.id)
    run(db, service.sign_up, user_of(crew[1]), activity.id)
    run(db, service.withdraw, user_of(crew[1]), activity.id)
    run(db, service.sign_up, user_of(crew[2]), activity.id)
    run(db, service.sign_up, user_of(crew[1]), activity.id)
    back = signup_of(db, activity, crew[1])
    assert back.status == SignupStatus.WAITING
    assert service.waiting_position(db.session, back) == 2


def test_more_places_go_to_those_waiting_and_fewer_than_taken_is_refused(
    db, community, staff_user, crew
):
    activity = factories.activity(community, needed=1)
    for volunteer in crew[:3]:
        run(db, service.sign_up, user_of(volunteer), activity.id)
    details = service.ActivityDetails(
        title=activity.title,
        kind="cleanup",
        place=activity.place,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        needed=2,
        points_per_hour=10,
    )
    run(db, service.update, staff_user, activity, details)
    assert statuses(db, activity) == ["signed", "signed", "waiting"]
    fewer = service.ActivityDetails(**{**details.__dict__, "needed": 1})
    error = refused(db, "needed_below_signed", service.update, staff_user, activity, fewer)
    assert error.details == {"count": 2}


def test_concurrent_sign_ups_never_give_more_places_than_needed(app, db, community, crew):
    activity = factories.activity(community, needed=5)
    activity_id, user_ids = activity.id, [v.user_id for v in crew]

    def attempt(i):
        signup = service.sign_up(_db.session, _db.session.get(User, user_ids[i]), activity_id)
        return signup.status.value

    results = run_together(app, len(crew), attempt)
    assert results.count("signed") == 5
    assert results.count("waiting") == 7
    db.session.rollback()
    signed = db.session.scalar(
        select(func.count(VolunteerSignup.id)).where(
            VolunteerSignup.activity_id == activity_id,
            VolunteerSignup.status == SignupStatus.SIGNED,
        )
    )
    assert signed == 5
    waiting = db.session.scalars(
        select(VolunteerSignup).where(VolunteerSignup.status == SignupStatus.WAITING)
    ).all()
    assert sorted(service.waiting_position(db.session, s) for s in waiting) == [1, 2, 3, 4, 5, 6, 7]


def test_pending_or_other_communitys_volunteers_cannot_sign_up(
    db, community, other_community, staff_user
):
    activity = factories.activity(community)
    pending = factories.volunteer(community, "13900000201", "张三", status="pending")
    outsider = factories.volunteer(other_community, "13900000202", "李四")
    refused(db, "not_confirmed", service.sign_up, user_of(pending), activity.id)
    refused(db, "not_found", service.sign_up, user_of(outsider), activity.id)
    resident = factories.resident(community, "13900000203", "1-1-101", "赵五")
    refused(db, "not_volunteer", service.sign_up, resident, activity.id)


def test_sign_up_is_refused_once_the_activity_is_over_or_cancelled(db, community, staff_user, crew):
    over = factories.activity(community, starts_in=-timedelta(hours=3), hours=2)
    refused(db, "over", service.sign_up, user_of(crew[0]), over.id)
    soon = factories.activity(community)
    run(db, service.cancel, staff_user, soon, "暴雨，改期")
    refused(db, "cancelled", service.sign_up, user_of(crew[0]), soon.id)


# --- registering ----------------------------------------------------------------------------


def test_a_cadre_registers_with_a_unit_and_signs_in_once_the_office_confirms(
    db, community, staff_user
):
    from app.services import accounts

    unit = factories.unit(community)
    details = service.OutsideDetails("陈建国", "139 0000 0301", unit.id, party_report=True)
    volunteer = run(db, service.register_outside, community.id, details, "long enough")
    assert volunteer.status == VolunteerStatus.PENDING
    assert user_of(volunteer).household is None
    with pytest.raises(Exception) as caught:
        accounts.authenticate(db.session, "13900000301", "long enough")
    assert caught.value.code == "not_confirmed"
    db.session.rollback()
    run(db, service.confirm, staff_user, volunteer)
    assert accounts.authenticate(db.session, "13900000301", "long enough").name == "陈建国"
    assert db.session.get(Volunteer, volunteer.id).party_report is True


def test_a_cadre_must_name_a_unit_of_the_community(db, community, other_community):
    theirs = factories.unit(other_community, "江堤街派出所")
    for unit_id in (None, theirs.id):
        details = service.OutsideDetails("陈建国", "13900000302", unit_id)
        refused(db, "unit_required", service.register_outside, community.id, details, "long enough")


def test_a_confirmed_resident_becomes_a_volunteer_at_once(db, community):
    resident = factories.resident(community, "13900000401", "2-1-201", "周梅")
    volunteer = run(db, service.register_resident, resident, "会理发", "周末上午")
    assert volunteer.status == VolunteerStatus.CONFIRMED
    assert (volunteer.skills, volunteer.availability) == ("会理发", "周末上午")
    refused(db, "already_volunteer", service.register_resident, resident)


def test_stored_text_loses_control_characters(db, community, staff_user):
    unit = run(
        db,
        service.save_unit,
        staff_user,
        community.id,
        service.UnitDetails(name="汉阳区\x00供电  公司", commitment="每周\x07两人"),
    )
    assert (unit.name, unit.commitment) == ("汉阳区供电 公司", "每周两人")


# --- check-in and check-out -----------------------------------------------------------------


def test_check_in_counts_from_half_an_hour_before_the_start_to_the_end(db, community, crew):
    activity = factories.activity(community, starts_in=timedelta(hours=2), hours=2)
    user = user_of(crew[0])
    run(db, service.sign_up, user, activity.id)
    early = activity.starts_at - service.MARGIN - MINUTE
    error = refused(db, "too_early", service.check_in, user, activity.token, early)
    assert error.details["opens"]
    late = activity.ends_at + MINUTE
    refused(db, "too_late", service.check_in, user, activity.token, late)
    opening = activity.starts_at - service.MARGIN
    run(db, service.check_in, user, activity.token.lower(), opening)
    assert signup_of(db, activity, crew[0]).checked_in_at == opening


def test_checking_in_twice_is_once(db, community, crew):
    activity = factories.activity(community, starts_in=-timedelta(minutes=10))
    user = user_of(crew[0])
    first = run(db, service.check_in, user, activity.token, activity.starts_at)
    run(db, service.check_in, user, activity.token, activity.starts_at + 20 * MINUTE)
    signup = signup_of(db, activity, crew[0])
    assert signup.id == first.id
    assert signup.checked_in_at == activity.starts_at
    assert signup.checked_out_at is None
    check_ins = db.session.scalar(
        select(func.count(AuditLog.id)).where(AuditLog.action == "signup.check_in")
    )
    assert check_ins == 1


def test_checking_out_without_checking_in_is_refused(db, community, crew):
    activity = factories.activity(community, starts_in=-timedelta(minutes=10))
    user = user_of(crew[0])
    refused(db, "not_checked_in", service.check_out, user, activity.token)
    run(db, service.sign_up, user, activity.id)
    refused(db, "not_checked_in", service.check_out, user, activity.token)
    assert signup_of(db, activity, crew[0]).checked_out_at is None


def test_hours_are_rounded_to_the_half_hour(db, community, crew):
    activity = factories.activity(community, starts_in=-timedelta(minutes=5), hours=3)
    start = activity.starts_at
    for volunteer, stayed in zip(crew, (104, 105, 14, 15, 44), strict=False):
        user = user_of(volunteer)
        run(db, service.check_in, user, activity.token, start)
        run(db, service.check_out, user, activity.token, start + stayed * MINUTE)
    minutes = [signup_of(db, activity, v).minutes for v in crew[:5]]
    assert minutes == [90, 120, 0, 30, 30]
    assert [service.round_half_hour(m) for m in (0, 29, 45, 75)] == [0, 30, 60, 90]


def test_check_out_closes_half_an_hour_after_the_end(db, community, crew):
    activity = factories.activity(community, starts_in=-timedelta(minutes=5), hours=1)
    user = user_of(crew[0])
    run(db, service.check_in, user, activity.token, activity.starts_at)
    late = activity.ends_at + service.MARGIN + MINUTE
    refused(db, "checkout_closed", service.check_out, user, activity.token, late)
    run(db, service.check_out, user, activity.token, activity.ends_at + service.MARGIN)
    assert signup_of(db, activity, crew[0]).minutes == 90


def test_a_walk_in_takes_a_free_place_but_not_one_that_is_taken(db, community, crew):
    activity = factories.activity(community, starts_in=-timedelta(minutes=5), needed=1)
    walk_in = run(db, service.check_in, user_of(crew[0]), activity.token)
    assert walk_in.status == SignupStatus.SIGNED
    refused(db, "full", service.check_in, user_of(crew[1]), activity.token)


def test_the_organiser_checks_someone_without_a_phone_in_and_out(db, community, staff_user, crew):
    activity = factories.activity(community, starts_in=-timedelta(minutes=5), needed=1)
    run(db, service.sign_up, user_of(crew[0]), activity.id)
    signup = signup_of(db, activity, crew[0])
    run(db, service.staff_check_in, staff_user, signup, activity.starts_at)
    run(db, service.staff_check_out, staff_user, signup, activity.starts_at + 61 * MINUTE)
    signup = signup_of(db, activity, crew[0])
    assert signup.checked_in_by_id == signup.checked_out_by_id == staff_user.id
    assert signup.minutes == 60
    # and someone beyond the number: the organiser adds them, then checks them in
    added = run(db, service.staff_add, staff_user, activity, crew[1].id)
    run(db, service.staff_check_in, staff_user, added)
    assert statuses(db, activity) == ["signed", "signed"]


# --- corrections and closing ----------------------------------------------------------------


def test_staff_correct_hours_with_a_reason_and_it_is_audited(db, community, staff_user, crew):
    activity = factories.activity(community, starts_in=-timedelta(minutes=5))
    signup = run(db, service.check_in, user_of(crew[0]), activity.token)
    refused(db, "reason_required", service.correct_hours, staff_user, signup, 120, " ")
    refused(db, "minutes_range", service.correct_hours, staff_user, signup, 100, "x")
    refused(db, "minutes_range", service.correct_hours, staff_user, signup, 25 * 60, "x")
    run(db, service.correct_hours, staff_user, signup, 150, "忘记签退，现场确认干到11点半")
    db.session.rollback()
    correction = db.session.scalar(select(VolunteerCorrection))
    assert (correction.minutes_before, correction.minutes_after) == (None, 150)
    note = db.session.scalar(select(AuditLog.note).where(AuditLog.action == "signup.correct"))
    assert note == "忘记签退，现场确认干到11点半"
    assert signup_of(db, activity, crew[0]).minutes == 150


def closed_activity(db, community, staff_user, crew, minutes=(90, 120, 30), pph=10):
    activity = factories.activity(
        community, starts_in=-timedelta(hours=3), hours=2, points_per_hour=pph
    )
    for volunteer, spent in zip(crew, minutes, strict=False):
        signup = run(db, service.staff_add, staff_user, activity, volunteer.id)
        run(db, service.correct_hours, staff_user, signup, spent, "补录")
    return activity


def test_closing_credits_each_persons_points_to_the_ledger(db, community, staff_user, crew):
    activity = closed_activity(db, community, staff_user, crew, (90, 120, 0), pph=15)
    done = run(db, service.close, staff_user, activity)
    assert (done.credited, done.points) == (2, 23 + 30)
    db.session.rollback()
    entries = db.session.scalars(select(PointsEntry).order_by(PointsEntry.id)).all()
    assert [(e.user_id, e.kind, e.amount, e.reason) for e in entries] == [
        (crew[0].user_id, PointsKind.EARNED, 23, activity.title),
        (crew[1].user_id, PointsKind.EARNED, 30, activity.title),
    ]
    assert db.session.get(User, crew[0].user_id).points_balance == 23
    assert db.session.get(VolunteerActivity, activity.id).status == ActivityStatus.CLOSED
    refused(db, "already_closed", service.close, staff_user, activity)
    assert db.session.scalar(select(func.count(PointsEntry.id))) == 2


def test_points_are_credited_once_when_the_activity_is_closed_twice_at_once(
    app, db, community, staff_user, other_staff_user, crew
):
    activity = closed_activity(db, community, staff_user, crew, (60, 120, 90, 30))
    activity_id, staff_id = activity.id, staff_user.id

    def attempt(i):
        staff = _db.session.get(User, staff_id)
        return service.close(_db.session, staff, _db.session.get(VolunteerActivity, activity_id))

    results = run_together(app, 8, attempt)
    assert sum(isinstance(r, service.Closed) for r in results) == 1
    assert results.count("already_closed") == 7
    db.session.rollback()
    rows = db.session.execute(
        select(PointsEntry.user_id, func.count(), func.sum(PointsEntry.amount)).group_by(
            PointsEntry.user_id
        )
    ).all()
    assert sorted((count, total) for _, count, total in rows) == [
        (1, 5),
        (1, 10),
        (1, 15),
        (1, 20),
    ]
    for volunteer in crew[:4]:
        user_id = volunteer.user_id
        assert db.session.get(User, user_id).points_balance == points.ledger_sum(
            db.session, user_id
        )


def test_a_correction_after_closing_moves_the_points_by_the_difference(
    db, community, staff_user, crew
):
    activity = closed_activity(db, community, staff_user, crew, (60,), pph=10)
    run(db, service.close, staff_user, activity)
    signup = signup_of(db, activity, crew[0])
    run(db, service.correct_hours, staff_user, signup, 150, "实际干了两个半小时")
    db.session.rollback()
    amounts = db.session.scalars(select(PointsEntry.amount).order_by(PointsEntry.id)).all()
    assert amounts == [10, 15]
    assert db.session.get(User, crew[0].user_id).points_balance == 25
    assert signup_of(db, activity, crew[0]).points == 25


def test_an_activity_that_has_not_started_cannot_be_closed(db, community, staff_user):
    activity = factories.activity(community, starts_in=timedelta(hours=1))
    refused(db, "not_started", service.close, staff_user, activity)


# --- certificates and figures ---------------------------------------------------------------


def test_the_certificate_gives_each_activity_and_the_total_of_confirmed_hours(
    db, community, staff_user, crew
):
    first = closed_activity(db, community, staff_user, crew[:1], (90,))
    run(db, service.close, staff_user, first)
    second = closed_activity(db, community, staff_user, crew[:1], (120,))
    run(db, service.close, staff_user, second)
    factories.activity(community, starts_in=-timedelta(hours=3))  # open: not certified
    today = local_today()
    volunteer = db.session.get(Volunteer, crew[0].id)
    certificate = run(
        db,
        service.issue_certificate,
        staff_user,
        volunteer,
        today - timedelta(days=30),
        today + timedelta(days=1),
    )
    assert (certificate.minutes, certificate.activities) == (210, 2)
    assert [line["minutes"] for line in certificate.lines] == [90, 120]
    assert certificate.lines[0]["place"] == "3栋楼下"
    assert certificate.volunteer_name == "志愿者1"
    assert certificate.issuer_name == "汉阳区琴断口街紫荆花社区居民委员会"
    assert certificate.issued_by_label == staff_user.name
    typed = certificate.serial.lower().replace("-", " ")
    assert service.find_certificate(db.session, typed).id == certificate.id
    assert service.find_certificate(db.session, "ZM-0000-0000-00") is None


def test_no_certificate_without_confirmed_hours_in_the_period(db, community, crew):
    volunteer = db.session.get(Volunteer, crew[0].id)
    today = local_today()
    refused(db, "nothing_to_certify", service.issue_certificate, None, volunteer, today, today)
    refused(
        db, "period_invalid", service.issue_certificate, None, volunteer, today, date(2020, 1, 1)
    )


def test_monthly_figures_count_volunteers_activities_and_hours(db, community, staff_user, crew):
    activity = closed_activity(db, community, staff_user, crew, (90, 60))
    run(db, service.close, staff_user, activity)
    months = service.monthly_figures(db.session, [community.id], months=2)
    this = months[-1]
    assert (this.volunteers, this.activities, this.minutes) == (2, 1, 150)
    assert this.new_volunteers == 12
    assert months[0].minutes == 0
    assert service.monthly_figures(db.session, [community.id + 1])[-1].minutes == 0


def test_names_on_the_public_check_are_masked():
    assert [service.mask_name(n) for n in ("王", "王芳", "王秀英", "欧阳建国")] == [
        "王*",
        "王*",
        "王*英",
        "欧**国",
    ]


def test_the_street_comparison_counts_activities_volunteers_and_hours(
    db, community, other_community, staff_user, crew
):
    from app.services import compare

    held = closed_activity(db, community, staff_user, crew, (90, 60, 0))
    run(db, service.close, staff_user, held)
    factories.activity(community, starts_in=-timedelta(hours=3))  # open: not counted
    today = local_today()
    values = compare.values_of(
        db.session, [community.id, other_community.id], today - timedelta(days=1), today
    )
    assert values["volunteer_activities"] == {community.id: 1}
    assert values["volunteers_served"] == {community.id: 2}
    assert values["volunteer_hours"] == {community.id: 150}
    assert compare.measure("volunteer_hours").kind == "minutes"
