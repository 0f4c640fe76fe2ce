"""Logins staff create for others (shop owners and cashiers, community staff), and switching
them off and on."""

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..models import User
from . import accounts, audit
from .errors import N_, AccountError, DomainError, Problems

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,39}")


class LoginError(DomainError):
    messages = {
        "login_required": N_("Please enter a login name (a mobile number or a user name)."),
        "login_format": N_(
            "A login name is a mobile number, or 3 to 40 letters, digits, dots or dashes."
        ),
        "owner_name_required": N_("Please enter the name of the person who logs in."),
    }


@dataclass
class Login:
    """A login to create: the person's name, a mobile number or user name, a first password."""

    name: str
    login: str
    password: str

    def fields(self, session: Session | None = None) -> dict[str, str | None]:
        """Return name, username and phone for accounts.create_user, or raise every problem of
        the login at once: name, login name, first password, and (given a session) a login name
        already taken."""
        problems = Problems()
        name = (self.name or "").strip()
        login = (self.login or "").strip()
        fields = None
        if not name:
            problems.add(LoginError("owner_name_required"))
        if not login:
            problems.add(LoginError("login_required"))
        elif accounts.is_mobile(phone := accounts.normalise_phone(login)):
            fields = {"name": name[:40], "username": None, "phone": phone}
        elif not _USERNAME.fullmatch(login):
            problems.add(LoginError("login_format"))
        else:
            fields = {"name": name[:40], "username": login, "phone": None}
        problems.check(lambda: accounts.check_new_password(self.password))
        if (
            session is not None
            and fields is not None
            and accounts.login_taken(session, fields["username"], fields["phone"])
        ):
            problems.add(AccountError("login_taken"))
        problems.raise_any()
        return fields


def set_active(session: Session, actor: User, user: User, active: bool) -> None:
    """Disable a login (its sessions end at once) or enable it again. The caller checked scope."""
    if user.active == active:
        return
    user.active = active
    if not active:
        user.session_version = (user.session_version or 0) + 1
    audit.record(
        session,
        actor,
        "user.enable" if active else "user.disable",
        user,
        before={"active": not active},
        after={"active": active},
    )
