from django.core.exceptions import PermissionDenied


class Refused(Exception):
    """A change the portal refuses, as a whole; `message` is French, shown to the user
    as is (on the form, or as a message)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class AccessRefused(PermissionDenied):
    """The access kernel's refusal of a page: the user does not hold `application_code`
    at `level` on any of their structures. Still a PermissionDenied (a 403); the error
    page reads the application and level to say which profile is missing."""

    def __init__(self, application_code, level):
        super().__init__(f"{application_code} at level {int(level)} required")
        self.application_code = application_code
        self.level = level
