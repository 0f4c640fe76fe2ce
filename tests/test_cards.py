"""Card batches: serials from a look-alike-free alphabet, 4-digit PINs, unguessable tokens."""

import re

import pytest
from sqlalchemy import func, select

from app.models import AuditLog, Card, CardBatch, CardStatus
from app.services.cards import (
    SERIAL_ALPHABET,
    CardError,
    generate_batch,
    normalise_serial,
)

from . import factories


@pytest.fixture
def campaign(community):
    return factories.campaign(community, code="ZJH")


def test_a_batch_of_2000_has_unique_well_formed_serials_pins_and_tokens(db, campaign, staff_user):
    batch = generate_batch(db.session, campaign, 2000, staff_user)
    db.session.commit()
    cards = db.session.scalars(select(Card).where(Card.batch_id == batch.id)).all()
    assert len(cards) == 2000 == batch.size
    assert len({c.serial for c in cards}) == 2000
    assert len({c.token for c in cards}) == 2000
    serial = re.compile(f"ZJH-[{SERIAL_ALPHABET}]{{4}}-[{SERIAL_ALPHABET}]{{2}}")
    assert all(serial.fullmatch(c.serial) for c in cards)
    assert not any(set("0O1I") & set(c.serial[4:]) for c in cards)
    assert all(re.fullmatch(r"\d{4}", c.pin) for c in cards)
    # 16 random bytes in base32: 26 characters, 128 bits (≥ 96 asked for)
    assert all(re.fullmatch(r"[A-Z2-7]{26}", c.token) for c in cards)
    assert all(c.status == CardStatus.NEW and c.uses_count == 0 for c in cards)
    assert all(c.community_id == campaign.community_id for c in cards)


def test_the_alphabet_has_no_look_alikes():
    assert not set("0O1I") & set(SERIAL_ALPHABET)
    assert len(SERIAL_ALPHABET) == 32


def test_batch_generation_is_audited(db, campaign, staff_user):
    batch = generate_batch(db.session, campaign, 5, staff_user, note="首批")
    db.session.commit()
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "batch.create"))
    assert row.object_id == batch.id
    assert row.after["size"] == 5
    assert row.actor_id == staff_user.id


@pytest.mark.parametrize("size", [0, -1, 10_001])
def test_batch_size_outside_1_to_10000_is_refused(db, campaign, size):
    with pytest.raises(CardError) as refused:
        generate_batch(db.session, campaign, size, None)
    assert refused.value.code == "batch_size"
    db.session.rollback()
    assert db.session.scalar(select(func.count(CardBatch.id))) == 0


def test_a_second_batch_never_repeats_a_serial(db, campaign):
    generate_batch(db.session, campaign, 500, None)
    generate_batch(db.session, campaign, 500, None)
    db.session.commit()
    serials = db.session.scalars(select(Card.serial)).all()
    assert len(serials) == len(set(serials)) == 1000


@pytest.mark.parametrize(
    ("typed", "printed"),
    [
        ("ZJH-7K3M-Q9", "ZJH-7K3M-Q9"),
        ("zjh-7k3m-q9", "ZJH-7K3M-Q9"),
        ("zjh 7k3m q9", "ZJH-7K3M-Q9"),
        ("ZJH7K3MQ9", "ZJH-7K3M-Q9"),
        ("ＺＪＨ－７Ｋ３Ｍ－Ｑ９", "ZJH-7K3M-Q9"),
        (" JB-ABCD-EF ", "JB-ABCD-EF"),
        ("abc", "ABC"),
    ],
)
def test_typed_serials_are_read_as_printed(typed, printed):
    assert normalise_serial(typed) == printed
