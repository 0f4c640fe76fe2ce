"""The demo's streets (街道): 汉阳区's streets, their communities and their staff logins.

Built through the real services (streets, communities, accounts), as the district admin would.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Street, User
from . import streets


def street(session: Session, admin: User, name: str, district: str) -> Street:
    """Return the demo's street of that name, creating it through the streets service."""
    key = streets.street_key(name)
    for found in session.scalars(select(Street).where(Street.district == district)):
        if streets.street_key(found.name) == key:
            return found
    return streets.create(session, admin, streets.StreetDetails(name=name, district=district))
