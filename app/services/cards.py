"""Cards and coupons: generating batches with serials, PINs and QR tokens."""

import base64
import re
import secrets
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, undefer

from ..clock import utcnow
from ..models import Campaign, Card, CardBatch, CardStatus, Merchant, Offer, OfferStatus, User
from . import audit
from .errors import N_, DomainError
from .qr import card_qr_svg, card_qr_text

# No 0/O or 1/I: a serial read aloud or typed at a till has no look-alikes.
SERIAL_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
SERIAL_RANDOM_LENGTH = 6  # 32**6 ≈ 1.07e9 serials per campaign code
MAX_BATCH = 10_000
TOKEN_BYTES = 16  # 128 bits: 26 base32 characters
CODE_PATTERN = re.compile(f"[{SERIAL_ALPHABET}]{{2,6}}")


class CardError(DomainError):
    messages = {
        "batch_size": N_("A batch holds from 1 to 10,000 cards."),
        "campaign_ended": N_("Cards cannot be added to a campaign that has ended."),
    }


def new_token() -> str:
    """Return an unguessable card token (128 bits) for the QR URL.

    Base32 in upper case, so the URL fits QR's compact alphanumeric mode (see services.qr).
    """
    return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode().rstrip("=")


def normalise_token(text: str) -> str:
    """Return a token as stored, whatever case the URL arrived in."""
    return (text or "").strip().upper()[:64]


def new_pin() -> str:
    return f"{secrets.randbelow(10_000):04d}"


def format_serial(code: str, body: str) -> str:
    """Return `ZJH-7K3M-Q9` for code `ZJH` and body `7K3MQ9`."""
    return f"{code}-{body[:4]}-{body[4:]}"


def new_serial_body() -> str:
    return "".join(secrets.choice(SERIAL_ALPHABET) for _ in range(SERIAL_RANDOM_LENGTH))


def normalise_serial(text: str) -> str:
    """Return a typed serial in its printed form: `zjh 7k3m q9` gives `ZJH-7K3M-Q9`.

    Full-width characters (a Chinese keyboard) become ASCII, case and separators are ignored.
    The alphabet holds none of 0/O/1/I, so a serial with one of them was misread; it is left as
    typed and simply not found.
    """
    compact = re.sub(r"[\s\-_—－]", "", unicodedata.normalize("NFKC", text or "")).upper()
    if len(compact) <= SERIAL_RANDOM_LENGTH:
        return compact
    return format_serial(compact[:-SERIAL_RANDOM_LENGTH], compact[-SERIAL_RANDOM_LENGTH:])


def generate_batch(
    session: Session, campaign: Campaign, size: int, actor: User | None, note: str = ""
) -> CardBatch:
    """Create `size` new cards for `campaign` in one bulk insert. The caller commits."""
    if not 1 <= size <= MAX_BATCH:
        raise CardError("batch_size")
    if campaign.status.value == "ended":
        raise CardError("campaign_ended")
    batch = CardBatch(
        community_id=campaign.community_id,
        campaign_id=campaign.id,
        size=size,
        note=note,
        created_by_id=actor.id if actor else None,
    )
    session.add(batch)
    session.flush()
    serials = _unused_serials(session, campaign.code, size)
    now = utcnow()
    session.execute(
        insert(Card),
        [
            {
                "community_id": campaign.community_id,
                "campaign_id": campaign.id,
                "batch_id": batch.id,
                "serial": serial,
                "pin": new_pin(),
                "token": new_token(),
                "status": CardStatus.NEW,
                "uses_count": 0,
                "void_reason": "",
                "created_at": now,
            }
            for serial in serials
        ],
    )
    audit.record(
        session,
        actor,
        "batch.create",
        batch,
        after={"campaign_id": campaign.id, "size": size, "first": serials[0], "last": serials[-1]},
    )
    return batch


def _unused_serials(session: Session, code: str, size: int) -> list[str]:
    """Draw `size` distinct serials with `code` that no card has yet."""
    chosen: set[str] = set()
    while len(chosen) < size:
        wanted = size - len(chosen)
        fresh = list({format_serial(code, new_serial_body()) for _ in range(wanted)} - chosen)
        taken: set[str] = set()
        for start in range(0, len(fresh), 900):  # stay under SQLite's bound-parameter limit
            chunk = fresh[start : start + 900]
            taken.update(session.scalars(select(Card.serial).where(Card.serial.in_(chunk))))
        chosen.update(set(fresh) - taken)
    return sorted(chosen)


# --- print sheets (the office) ---------------------------------------------------------------

CARDS_PER_SHEET = 10  # 2 × 5 cards of 85.6 × 54 mm on A4
MAX_SHEETS_PER_PRINT = 200  # 2000 cards: one print job the browser handles well


def where_it_works(session: Session, campaign: Campaign) -> tuple[list[str], int]:
    """Return a short list of what the campaign gives where (餐饮 8折, 美发 6折, ...).

    Shops of one category with one rule make one entry; entries are ordered by how many shops
    they cover. Also returns the number of shops taking part.
    """
    rows = session.execute(
        select(Merchant.category, Offer.rule_text)
        .join(Merchant, Offer.merchant_id == Merchant.id)
        .where(Offer.campaign_id == campaign.id, Offer.status == OfferStatus.ACTIVE)
    ).all()
    counted = Counter((category, rule or campaign.default_rule_text) for category, rule in rows)
    entries = [f"{category}{rule}" for (category, rule), _n in counted.most_common()]
    return entries, len(rows)


def sheet_cards(session: Session, batch: CardBatch, first_sheet: int, last_sheet: int) -> list:
    """Return the cards printed on sheets first_sheet..last_sheet (1-based) of a batch."""
    return list(
        session.scalars(
            select(Card)
            .where(Card.batch_id == batch.id)
            .options(undefer(Card.qr_svg))
            .order_by(Card.serial)
            .offset((first_sheet - 1) * CARDS_PER_SHEET)
            .limit((last_sheet - first_sheet + 1) * CARDS_PER_SHEET)
        )
    )


@dataclass(frozen=True)
class PrintedCard:
    """What a print sheet shows of one card."""

    serial: str
    pin: str
    qr_svg: str


@dataclass(frozen=True)
class PrintRun:
    """Sheets first..last of a batch, drawn: the cards to print and the drawings to keep."""

    batch_id: int
    first: int
    last: int
    cards: list[PrintedCard]
    fresh: list[dict]  # {"id": card id, "qr_svg": the drawing to keep} for cards that had none


def draw_sheets(
    session: Session, batch: CardBatch, first: int, last: int, base_url: str
) -> PrintRun:
    """Return the cards of sheets first..last with their QR drawings, writing nothing.

    Drawing takes seconds for 2000 fresh codes, so it happens before the write transaction
    (tills must not wait for it); `keep_drawings` then writes what was drawn in a short one.
    """
    printed, fresh = [], []
    for card in sheet_cards(session, batch, first, last):
        cached = card.qr_svg
        svg = card_qr_svg(card, base_url)
        if not (cached and cached.startswith(card_qr_text(base_url, card.token) + "\n")):
            fresh.append({"id": card.id, "qr_svg": f"{card_qr_text(base_url, card.token)}\n{svg}"})
        printed.append(PrintedCard(card.serial, card.pin, svg))
    return PrintRun(batch.id, first, last, printed, fresh)


def keep_drawings(session: Session, actor: User | None, run: PrintRun) -> None:
    """Keep the new drawings of a print run on their cards, and record the print."""
    if run.fresh:
        session.execute(update(Card), run.fresh)
    audit.record(
        session,
        actor,
        "batch.print",
        session.get(CardBatch, run.batch_id),
        after={"first_sheet": run.first, "last_sheet": run.last, "cards": len(run.cards)},
    )


def record_card_print(
    session: Session, actor: User, card: Card, resident_id: int | None = None
) -> None:
    """Record that one card was printed at the office (for a resident, when it was exchanged
    for their points)."""
    after = {"serial": card.serial}
    if resident_id is not None:
        after["on_behalf_of"] = resident_id
    audit.record(session, actor, "card.print", card, after=after)


LAPSING = (CardStatus.NEW, CardStatus.ISSUED)


def shown_status(status: CardStatus, valid_until: date, today: date) -> CardStatus:
    """Return the status the office sees: a new or handed-out card past its campaign's last
    day is expired, though no job rewrites its row (the till refuses it by the dates alone)."""
    if status in LAPSING and valid_until < today:
        return CardStatus.EXPIRED
    return status
