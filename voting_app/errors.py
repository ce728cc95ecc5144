"""The error a service raises when a user's request breaks a rule.

The message is a lazy translation, so it renders in the reader's language; views show it
and answer 400 or 409, and the request's transaction is rolled back.
"""


class DomainError(Exception):
    status = 400

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class ConflictError(DomainError):
    status = 409


class BusyError(DomainError):
    """The server is busy with other work of the same kind; the same request may succeed later."""

    status = 503
