"""Paper the office prints for people without a phone: a resident's 爱心存折, one card's
statement, a shop's window sticker (A6) and the community's notice-board poster (A4).

Each page is a sheet of its own (`templates/paper/`, `static/css/paper*.css`) that prints
from the browser at its paper's size. Another community's resident, card or shop is a 404.
"""

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.access import get_or_404
from ..clock import local_today
from ..extensions import db
from ..inputs import one_of
from ..models import Card, Community, Merchant, Role, User
from ..services import communities, paper
from ..services.qr import qr_svg
from ..templating import public_base_url
from . import bp
from .common import perform, staff_required, visible_communities_stmt
from .forms import OfficePhoneForm


def community_url(slug: str) -> str:
    """Return the community page's address, as its QR carries it."""
    return f"{public_base_url()}/s/{slug}"


def community_qr(slug: str, label: str) -> str:
    return qr_svg(community_url(slug), label=label)


@bp.get("/aid/residents/<int:resident_id>/passbook")
@staff_required
def aid_resident_passbook(resident_id):
    """A resident's 爱心存折 to print and hand over: A5 (the default) or A4 (`?paper=a4`)."""
    resident = get_or_404(User, resident_id)
    if resident.role != Role.RESIDENT:
        abort(404)
    return passbook_page(
        resident,
        paper_url=url_for("admin.aid_resident_passbook", resident_id=resident.id),
        back_url=url_for("admin.aid_resident", resident_id=resident.id),
    )


def passbook_page(resident: User, *, paper_url: str, back_url: str) -> str:
    """Render a resident's passbook on the paper the link asks for (`?paper=a4`; A5 else)."""
    papers = paper.PASSBOOK_PAPERS
    return render_template(
        "paper/passbook.html",
        book=paper.passbook(db.session, resident),
        paper_size=one_of(request.args.get("paper"), papers, papers[0]),
        papers=papers,
        today=local_today(),
        paper_url=paper_url,
        back_url=back_url,
    )


@bp.get("/cards/<int:card_id>/statement")
@staff_required
def card_statement(card_id):
    """One card's statement (卡片对账单) on A4: its uses, voids shown as such, what is left."""
    card = get_or_404(Card, card_id)
    return render_template(
        "paper/statement.html",
        st=paper.statement(db.session, card),
        paper_size="a4",
        show_household=True,
        today=local_today(),
        back_url=url_for("admin.card", card_id=card.id),
    )


@bp.get("/merchants/<int:merchant_id>/sticker")
@staff_required
def merchant_sticker(merchant_id):
    """The shop's A6 window sticker: its name, its rule in big type, the community page's QR."""
    merchant = get_or_404(Merchant, merchant_id)
    return sticker_page(merchant, url_for("admin.merchant", merchant_id=merchant.id))


def sticker_page(merchant: Merchant, back_url: str) -> str:
    """The A6 sticker of a shop, as the office and the shop itself print it."""
    found = paper.sticker(db.session, merchant)
    return render_template(
        "paper/sticker.html",
        sticker=found,
        qr=community_qr(found.slug, found.community),
        url=community_url(found.slug),
        paper_size="a6",
        back_url=back_url,
    )


def _poster_community(community_id) -> Community:
    community = db.session.scalar(visible_communities_stmt().where(Community.id == community_id))
    if community is None:
        abort(404)
    return community


@bp.get("/poster/<int:community_id>")
@staff_required
def community_poster(community_id):
    """The community's A4 notice-board poster: campaigns, shops and rules, QR, office phone."""
    return show_poster(_poster_community(community_id))


@bp.post("/poster/<int:community_id>/phone")
@staff_required
def community_poster_phone(community_id):
    """Set the office's phone from the poster's bar (it is not printed) and show the poster."""
    community = _poster_community(community_id)
    form = OfficePhoneForm()
    if form.validate_on_submit() and perform(
        communities.set_phone,
        community,
        form.phone.data or "",
        form=form,
        fields={"phone_format": "phone"},
    ):
        return redirect(url_for("admin.community_poster", community_id=community.id))
    return show_poster(community, form, 422)


def show_poster(community: Community, form=None, status=200):
    form = form or OfficePhoneForm(formdata=None, phone=community.phone)
    return render_template(
        "paper/poster.html",
        poster=paper.poster(db.session, community),
        community_id=community.id,
        phone_form=form,
        may_set_phone=current_user.role != Role.STREET_STAFF,
        qr=community_qr(community.slug, community.name),
        url=community_url(community.slug),
        paper_size="a4",
        back_url=url_for("admin.merchants"),
    ), status
