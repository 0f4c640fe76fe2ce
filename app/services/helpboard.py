"""The help board (邻里互助): residents ask for help or offer it, neighbours take it on.

A post moves ``open → taken → done → confirmed``, or to ``cancelled`` from open or taken:

- a confirmed neighbour of the same community other than the author takes an open post;
- the one who took it may give it back while it is taken (``taken → open``: something came
  up), and it is on the board again for someone else;
- the one helped (the author of a request, the taker of an offer) marks it done;
- staff confirm it with the time it took, and the helper earns points (`points.points_for`);
- the author cancels it while it is open or taken.

Any other move is refused with a stable code. The two people's phones and households are
shown to each other only once the post is taken (`sees_contact`), never on the board. Staff
may hide a post (with a reason) from the board. Every change writes an audit row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ..clock import utcnow
from ..database import locked
from ..models import (
    HelpCategory,
    HelpKind,
    HelpPost,
    HelpStatus,
    PointsKind,
    Role,
    User,
)
from . import audit, points
from .errors import N_, DomainError, Problems

POST_FIELDS = ["status", "taker_id", "minutes", "points", "hidden", "hidden_reason"]
CANCELLABLE = (HelpStatus.OPEN, HelpStatus.TAKEN)  # the author may withdraw a post in these
MAX_MINUTES = 12 * 60
STALE_AFTER = timedelta(days=1)  # an open request older than this: someone may need help


class HelpError(DomainError):
    messages = {
        "not_confirmed": N_(
            "The community office has not confirmed your household yet; "
            "you can use the help board once it has."
        ),
        "kind_invalid": N_("Please choose whether you ask for help or offer it."),
        "category_invalid": N_("Please choose what kind of help."),
        "title_required": N_("Please say in a few words what is needed."),
        "title_too_long": N_("The title may have at most 80 characters."),
        "details_too_long": N_("The details may have at most 1000 characters."),
        "when_too_long": N_("When may have at most 80 characters."),
        "area_too_long": N_("Where may have at most 80 characters."),
        "hidden": N_("The community office has taken this post off the board."),
        "own_post": N_("This is your own post."),
        "not_open": N_("Someone has already taken this, or it was closed."),
        "not_taken": N_("Only help that was taken on can be marked done."),
        "not_helped": N_("Only the neighbour who was helped can mark it done."),
        "author_only": N_("Only the neighbour who posted it can cancel it."),
        "taker_only": N_("Only the neighbour who took it on can give it back."),
        "not_releasable": N_("Only help that is taken on and not yet done can be given back."),
        "not_cancellable": N_("Help that was done can no longer be cancelled."),
        "not_done": N_("Only help marked done can be confirmed."),
        "minutes_range": N_(
            "Give the time it took in hours, more than 0 and at most 12, to the minute: "
            "e.g. 1.5 for 90 minutes."
        ),
        "reason_required": N_("Please give a reason."),
        "already_hidden": N_("This post is already hidden."),
        "not_hidden": N_("This post is not hidden."),
    }


@dataclass
class PostDetails:
    """What a resident writes on the board: no phone, no exact address (they stay private)."""

    kind: str
    category: str
    title: str
    details: str = ""
    when_text: str = ""
    area: str = ""

    def cleaned(self) -> PostDetails:
        """Return the post trimmed and checked, or raise every problem at once."""
        problems = Problems()
        if self.kind not in {k.value for k in HelpKind}:
            problems.add(HelpError("kind_invalid"))
        if self.category not in {c.value for c in HelpCategory}:
            problems.add(HelpError("category_invalid"))
        title = " ".join((self.title or "").split())
        if not title:
            problems.add(HelpError("title_required"))
        elif len(title) > 80:
            problems.add(HelpError("title_too_long"))
        details = (self.details or "").strip()
        if len(details) > 1000:
            problems.add(HelpError("details_too_long"))
        when_text = " ".join((self.when_text or "").split())
        if len(when_text) > 80:
            problems.add(HelpError("when_too_long"))
        area = " ".join((self.area or "").split())
        if len(area) > 80:
            problems.add(HelpError("area_too_long"))
        problems.raise_any()
        return PostDetails(self.kind, self.category, title, details, when_text, area)


def stale(post, now: datetime | None = None):
    """An open request (not an offer) older than a day: someone may still be waiting for help.

    One definition for both sides: given the `HelpPost` class it is a condition for a query
    (``.where(stale(HelpPost))``); given a post, whether that post is stale (`is_stale`).
    """
    cutoff = (now or utcnow()) - STALE_AFTER
    return (
        (post.kind == HelpKind.REQUEST)
        & (post.status == HelpStatus.OPEN)
        & (post.created_at < cutoff)
    )


def is_stale(post: HelpPost, now: datetime | None = None) -> bool:
    return bool(stale(post, now))


def is_confirmed_resident(user: User) -> bool:
    return user.role == Role.RESIDENT and user.confirmed_at is not None and user.active


def _require_resident(user: User) -> None:
    if not is_confirmed_resident(user):
        raise HelpError("not_confirmed")


def sees_contact(post: HelpPost, viewer: User | None) -> bool:
    """Tell whether `viewer` may see the other person's phone and household on `post`."""
    if viewer is None or post.taker_id is None or post.status == HelpStatus.OPEN:
        return False
    return viewer.id in (post.author_id, post.taker_id)


# --- phones and rooms typed into a post -------------------------------------------------------

_GAP = r"[ \-—–.·]?"  # what people type between digits
# Full-width digits, plus and dash (a Chinese keyboard) read as ASCII, one character for one, so
# what is found in the read copy is hidden at the same place in the text as written.
_HALF_WIDTH = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")
_CONTACT = re.compile(
    "|".join(
        (
            # a mobile: 13812345678, 138 1234 5678, +86-138-1234-5678
            rf"(?:\+?86{_GAP})?1[3-9][0-9](?:{_GAP}[0-9]){{8}}",
            # a landline: 027-84651234, 8465 1234
            rf"(?:0[0-9]{{2,3}}{_GAP})?[2-9][0-9]{{2,3}}{_GAP}[0-9]{{4}}",
            # a room: 3-2-501, 3栋2单元501室, 3号楼 2单元 501, 3栋501, 2单元501, 501室, 3-501
            r"[0-9]{1,3} ?(?:号楼|栋|幢|座|楼|-) ?[0-9]{1,2} ?(?:单元|门|-) ?[0-9]{1,6}"
            r" ?(?:室|号|户)?",
            r"[0-9]{1,3} ?(?:号楼|栋|幢|座) ?[0-9]{3,4} ?(?:室|号|户)?",
            r"[0-9]{1,2} ?单元 ?[0-9]{2,6} ?(?:室|号|户)?",
            r"[0-9]{3,4} ?(?:室|房|户)",
            r"[0-9]{1,3}-[0-9]{3,4}",
        )
    ).join((r"(?<![0-9])(?:", r")(?![0-9])"))
)


def has_contact(text: str) -> bool:
    """Tell whether `text` holds something that reads as a phone number or a room."""
    return bool(_CONTACT.search((text or "").translate(_HALF_WIDTH)))


def mask_contacts(text: str) -> str:
    """Hide every digit of a phone number or a room in `text`: 请送到*栋*单元***室."""
    text = text or ""
    shown = list(text)
    for found in _CONTACT.finditer(text.translate(_HALF_WIDTH)):
        for at in range(found.start(), found.end()):
            if found.string[at].isdigit():
                shown[at] = "*"
    return "".join(shown)


@dataclass(frozen=True)
class PostText:
    """A post's words as one viewer may read them, and whether anything was hidden."""

    title: str
    details: str
    when_text: str
    area: str
    masked: bool


def shown_text(post: HelpPost, viewer: User | None) -> PostText:
    """Return the post's words for `viewer`: as written for its author and, once taken, for the
    one who took it; for everyone else with phones and rooms hidden."""
    texts = (post.title, post.details or "", post.when_text or "", post.area or "")
    if viewer is not None and (viewer.id == post.author_id or sees_contact(post, viewer)):
        return PostText(*texts, masked=False)
    shown = [mask_contacts(text) for text in texts]
    return PostText(*shown, masked=shown != list(texts))


def _locked(session: Session, post_id: int, community_id: int | None) -> HelpPost:
    """Return the post read afresh, its row locked (PostgreSQL)."""
    conditions = [HelpPost.id == post_id]
    if community_id is not None:
        conditions.append(HelpPost.community_id == community_id)
    post = locked(session, HelpPost, *conditions)
    if post is None:
        raise HelpError("not_open")
    return post


def _record(session, actor, action, post, before, note="", on_behalf_by=None):
    audit.record(
        session,
        on_behalf_by or actor,
        action,
        post,
        before=before,
        after=audit.snapshot(post, POST_FIELDS) | _for(actor, on_behalf_by),
        note=note,
    )


def _for(resident: User, on_behalf_by: User | None) -> dict:
    """What an audit row keeps of an act done for a resident: whom it was done for."""
    return {"on_behalf_of": resident.id} if on_behalf_by is not None else {}


def create_post(
    session: Session, author: User, details: PostDetails, on_behalf_by: User | None = None
) -> HelpPost:
    """Put a request for help, or an offer of it, on the author's community's board.

    `on_behalf_by`: the staff member who posts it for the author (代办, see `on_behalf`).
    """
    _require_resident(author)
    details = details.cleaned()
    post = HelpPost(
        community_id=author.community_id,
        author_id=author.id,
        kind=HelpKind(details.kind),
        category=HelpCategory(details.category),
        title=details.title,
        details=details.details,
        when_text=details.when_text,
        area=details.area,
        status=HelpStatus.OPEN,
        posted_by_id=on_behalf_by.id if on_behalf_by is not None else None,
    )
    session.add(post)
    session.flush()
    audit.record(
        session,
        on_behalf_by or author,
        "help.post",
        post,
        after=audit.snapshot(post, ["kind", "category", "title", "status"])
        | _for(author, on_behalf_by),
    )
    return post


def take(session: Session, actor: User, post: HelpPost) -> HelpPost:
    """Take on an open post of one's own community: the two now see each other's contact."""
    _require_resident(actor)
    post = _locked(session, post.id, actor.community_id)
    if post.hidden:
        raise HelpError("hidden")
    if post.author_id == actor.id:
        raise HelpError("own_post")
    if post.status != HelpStatus.OPEN:
        raise HelpError("not_open")
    before = audit.snapshot(post, POST_FIELDS)
    post.status = HelpStatus.TAKEN
    post.taker_id = actor.id
    post.taken_at = utcnow()
    _record(session, actor, "help.take", post, before)
    return post


def mark_done(
    session: Session, actor: User, post: HelpPost, on_behalf_by: User | None = None
) -> HelpPost:
    """The one who was helped says the help was given (or staff say it for them: 代办)."""
    post = _locked(session, post.id, actor.community_id)
    if post.status != HelpStatus.TAKEN:
        raise HelpError("not_taken")
    if actor.id != post.helped_id:
        raise HelpError("not_helped")
    before = audit.snapshot(post, POST_FIELDS)
    post.status = HelpStatus.DONE
    post.done_at = utcnow()
    post.done_by_id = on_behalf_by.id if on_behalf_by is not None else None
    _record(session, actor, "help.done", post, before, on_behalf_by=on_behalf_by)
    return post


def release(session: Session, actor: User, post: HelpPost) -> HelpPost:
    """The one who took a post on gives it back: it is open on the board again, and the two
    no longer see each other's contact."""
    post = _locked(session, post.id, actor.community_id)
    if post.status != HelpStatus.TAKEN:
        raise HelpError("not_releasable")
    if post.taker_id != actor.id:
        raise HelpError("taker_only")
    before = audit.snapshot(post, POST_FIELDS)
    post.status = HelpStatus.OPEN
    post.taker_id = None
    post.taken_at = None
    _record(session, actor, "help.release", post, before)
    return post


def cancel(
    session: Session, actor: User, post: HelpPost, on_behalf_by: User | None = None
) -> HelpPost:
    """The author withdraws a post that is open or taken (no longer needed, or no one came);
    or staff withdraw it for them (代办)."""
    post = _locked(session, post.id, actor.community_id)
    if post.author_id != actor.id:
        raise HelpError("author_only")
    if post.status not in CANCELLABLE:
        raise HelpError("not_cancellable")
    before = audit.snapshot(post, POST_FIELDS)
    post.status = HelpStatus.CANCELLED
    post.closed_at = utcnow()
    post.cancelled_by_id = on_behalf_by.id if on_behalf_by is not None else None
    _record(session, actor, "help.cancel", post, before, on_behalf_by=on_behalf_by)
    return post


def scope_of(actor: User) -> int | None:
    return None if actor.role == Role.DISTRICT_ADMIN else actor.community_id


def confirm(session: Session, actor: User, post: HelpPost, minutes: int | None) -> HelpPost:
    """Staff confirm that help marked done was given, and the helper earns points for it."""
    if minutes is None or not 0 < minutes <= MAX_MINUTES:
        raise HelpError("minutes_range")
    post = _locked(session, post.id, scope_of(actor))
    if post.status != HelpStatus.DONE:
        raise HelpError("not_done")
    helper = points.lock_user(session, post.helper_id)
    earned = points.points_for(post.category, minutes)
    before = audit.snapshot(post, POST_FIELDS)
    post.status = HelpStatus.CONFIRMED
    post.closed_at = utcnow()
    post.confirmed_by_id = actor.id
    post.minutes = minutes
    post.points = earned
    points.post_entry(
        session, actor, helper, PointsKind.EARNED, earned, post.title, post_id=post.id
    )
    _record(session, actor, "help.confirm", post, before, note=f"+{earned} → {helper.name}")
    return post


def hide(session: Session, actor: User, post: HelpPost, reason: str) -> HelpPost:
    """Take a post off the board (staff), saying why; the author still sees it and why."""
    reason = (reason or "").strip()[:200]
    if not reason:
        raise HelpError("reason_required")
    post = _locked(session, post.id, scope_of(actor))
    if post.hidden:
        raise HelpError("already_hidden")
    before = audit.snapshot(post, POST_FIELDS)
    post.hidden = True
    post.hidden_reason = reason
    _record(session, actor, "help.hide", post, before, note=reason)
    return post


def unhide(session: Session, actor: User, post: HelpPost) -> HelpPost:
    """Put a hidden post back on the board (staff)."""
    post = _locked(session, post.id, scope_of(actor))
    if not post.hidden:
        raise HelpError("not_hidden")
    before = audit.snapshot(post, POST_FIELDS)
    post.hidden = False
    post.hidden_reason = ""
    _record(session, actor, "help.unhide", post, before)
    return post
