"""Domain errors with stable codes.

A service raises `SomethingError("code")`; the route shows `error.message` (translated at the
edge) and tests assert `error.code`. Messages are English msgids marked for extraction; the
zh_Hans_CN catalogue gives the Chinese people see.
"""

from functools import cache


def N_(message: str) -> str:
    """Mark a string for translation without translating it here."""
    return message


class DomainError(Exception):
    """A refusal a person can act on, with a code that stays stable."""

    messages: dict[str, str] = {}

    def __init__(self, code: str, message: str | None = None, **details):
        self.code = code
        self.message = message or self.messages.get(code, code)
        self.details = details
        super().__init__(f"{code}: {self.message}")


class Refusals(DomainError):
    """Several refusals of one form at once, so a person can fix every field in one go.

    Its `code` is the first refusal's (tests of one problem read the same); `errors` holds
    them all. Services collect them with `Problems`.
    """

    def __init__(self, errors: list[DomainError]):
        self.errors = errors
        first = errors[0]
        super().__init__(first.code, first.message, **first.details)


class Problems:
    """Collect the refusals of a form's fields, then raise them together (or the one alone)."""

    def __init__(self):
        self.errors: list[DomainError] = []

    def add(self, error: DomainError) -> None:
        self.errors.append(error)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def codes(self) -> set[str]:
        return {error.code for error in self.errors}

    def check(self, call):
        """Return what `call()` returns; keep its refusal (or refusals) instead, and return None."""
        try:
            return call()
        except DomainError as error:
            self.errors.extend(error.errors if isinstance(error, Refusals) else [error])
            return None

    def raise_any(self) -> None:
        """Raise the one refusal, or all of them as `Refusals` of the first one's class (so
        `except MerchantError` still catches them)."""
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise _refusals_of(type(self.errors[0]))(self.errors)


@cache
def _refusals_of(error_class: type[DomainError]) -> type[Refusals]:
    return type(f"{error_class.__name__}s", (Refusals, error_class), {})


class NotFound(DomainError):
    messages = {"not_found": N_("Not found.")}

    def __init__(self, code: str = "not_found", message: str | None = None, **details):
        super().__init__(code, message, **details)


class AccountError(DomainError):
    messages = {
        "bad_credentials": N_("Wrong login name or password."),
        "inactive": N_("This account has been disabled."),
        "community_archived": N_(
            "This account's community has been archived, so its logins cannot sign in. "
            "The district admin can bring the community back."
        ),
        "not_confirmed": N_(
            "The community office has not confirmed your household yet. "
            "You can sign in once they have; ask at the office if it takes long."
        ),
        "wrong_password": N_("The current password is wrong."),
        "weak_password": N_("A password needs at least 8 characters."),
        "login_taken": N_("That login name or phone number is already in use."),
    }
