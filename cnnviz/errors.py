"""The few exception types a user can cause.

Each carries a one-line message meant for a person: the GUI shows it in a dialog and keeps
its state, the CLI prints it on stderr and exits non-zero. Anything else escaping is a bug.
"""


class CnnvizError(Exception):
    """Base class: ``str(err)`` is the one line shown to the user."""


class SettingsError(CnnvizError, ValueError):
    """A setting out of range or a contradictory combination of settings."""


class InputError(CnnvizError):
    """An image or video that cannot be read (corrupt, empty, too large, unknown format)."""


class ExportError(CnnvizError):
    """An export that cannot be written (unwritable path, unknown format)."""
