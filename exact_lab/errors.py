"""The project's own exceptions: every failure a user can cause has a named class here."""


class ExactLabError(Exception):
    """Base class of every error exact-lab raises on purpose."""


class ProjectLocationError(ExactLabError):
    """The project location is missing, unreadable, or not a project."""


class CatalogDamagedError(ExactLabError):
    """The catalog exists but cannot be read as an exact-lab project."""


class UnknownImageError(ExactLabError, KeyError):
    """An image id or name that the project does not hold."""

    def __str__(self):  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class UnknownTypeError(ExactLabError, KeyError):
    """An annotation type (template) the project does not hold."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class UnknownVersionError(ExactLabError, KeyError):
    """A version name or snapshot that does not exist."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class UnknownAnnotationError(ExactLabError, KeyError):
    """An annotation uuid that the project does not hold."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class InvalidGeometryError(ExactLabError, ValueError):
    """A geometry that does not fit its annotation type, or is not a geometry at all."""


class InvalidValueError(ExactLabError, ValueError):
    """A value (mode, role, colour, size ...) outside what the field accepts."""


class DuplicateNameError(ExactLabError, ValueError):
    """A name that must be unique (version, image set, type) is taken."""


class VersionExistsError(DuplicateNameError):
    """A version with this name exists already."""


class UnsupportedSlideError(ExactLabError):
    """A file that no reader can open, with the reason."""


class FormatError(ExactLabError, ValueError):
    """An annotation file that does not parse: names the file, the place and what was expected."""


class CommitFailedError(ExactLabError):
    """A commit that kept conflicting after every retry; the edits are still queued."""


class EditRefusedError(InvalidValueError):
    """Queued edits the store refused at commit (the others were committed); names each one."""


class TeamSetupError(ExactLabError):
    """A team set-up step that failed (catalog, data path, project); says which and how to fix it.
    ``args[1]``, when present, holds every check made up to there."""


class PermissionDeniedError(ExactLabError, PermissionError):
    """The current user may not read or change this (not a member of the set's team, or not an
    admin where an admin is needed)."""


class PatchLoaderError(ExactLabError):
    """A loader worker failed to read a batch (the message names the batch and the patch, with
    the worker's traceback) or died while reading it."""
