"""Roles open their own rooms only, and every query is scoped to the user's community."""

import pytest
from werkzeug.exceptions import NotFound

from app.auth.access import get_or_404, scoped
from app.models import Merchant, Role

from . import factories


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("staff", "/admin/", 200),
        ("district_admin", "/admin/", 200),
        ("merchant", "/admin/", 403),
        ("cashier", "/admin/", 403),
        ("merchant", "/m/", 200),
        ("cashier", "/m/", 200),
        ("staff", "/m/", 403),
        ("district_admin", "/m/", 403),
    ],
)
def test_each_role_opens_only_its_own_room(request, who, path, status):
    client = request.getfixturevalue(who)
    assert client.get(path).status_code == status


def test_resident_login_cannot_open_office_or_shop_pages(app, community):
    from .conftest import login

    resident = login(app, factories.user(Role.RESIDENT, community=community, phone="13900000009"))
    assert resident.get("/admin/").status_code == 403
    assert resident.get("/m/").status_code == 403


def test_staff_see_only_their_own_communitys_merchants(
    db, community, other_community, staff_user, other_staff_user
):
    mine = factories.merchant(community, "张记热干面")
    theirs = factories.merchant(other_community, "江堤小吃店")
    assert db.session.scalars(scoped(Merchant, staff_user)).all() == [mine]
    assert db.session.scalars(scoped(Merchant, other_staff_user)).all() == [theirs]


def test_a_jiangbo_staff_member_asking_for_a_zijinghua_merchant_gets_404(
    app, community, other_community, other_staff_user, staff_user
):
    zijinghua_shop = factories.merchant(community, "张记热干面")
    with app.test_request_context():
        with pytest.raises(NotFound):
            get_or_404(Merchant, zijinghua_shop.id, other_staff_user)
        assert get_or_404(Merchant, zijinghua_shop.id, staff_user) == zijinghua_shop


def test_district_admin_sees_every_community(db, community, other_community, district_admin_user):
    factories.merchant(community, "张记热干面")
    factories.merchant(other_community, "江堤小吃店")
    assert len(db.session.scalars(scoped(Merchant, district_admin_user)).all()) == 2


def test_a_merchant_login_sees_only_its_own_shop(db, community, shop, merchant_user):
    factories.merchant(community, "隔壁超市", category="超市副食")
    assert db.session.scalars(scoped(Merchant, merchant_user)).all() == [shop]


def test_ids_that_are_not_numbers_are_404_not_500(app, staff_user):
    with app.test_request_context():
        with pytest.raises(NotFound):
            get_or_404(Merchant, "1 OR 1=1", staff_user)


def test_scoping_a_model_without_a_community_is_a_programming_error(staff_user):
    from app.models import ApiKey

    with pytest.raises(TypeError):
        scoped(ApiKey, staff_user)
