class Refused(Exception):
    """A change the portal refuses, as a whole; `message` is French, shown to the user
    as is (on the form, or as a message)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message
