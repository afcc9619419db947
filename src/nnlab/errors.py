"""Errors caused by the user's input. The CLI prints their message on one line and exits 2."""


class UserError(Exception):
    """Bad input: the message says what is wrong and what to do.

    The message is always one line: line breaks in it (e.g. from an echoed value) are shown
    as ``\\n``."""

    def __init__(self, message: str = "") -> None:
        super().__init__(str(message).replace("\r", "\\r").replace("\n", "\\n"))


class ConfigError(UserError):
    """An experiment, preset or `--set` override that cannot be used."""


class DataError(UserError):
    """A dataset that is missing, corrupt or cannot be fetched."""
