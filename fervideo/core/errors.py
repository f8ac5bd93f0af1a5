"""Exceptions raised at the library's boundaries; each message tells the user what to do."""


class FervideoError(Exception):
    """Base class: the CLI turns any of these into one line on stderr and a non-zero exit."""


class InputError(FervideoError):
    """An input file is missing, empty or cannot be decoded."""


class OutputError(FervideoError):
    """An output folder or file cannot be written."""


class ModelError(FervideoError):
    """A model name is unknown or a checkpoint cannot be loaded."""


class UsageError(FervideoError):
    """Options that do not make sense together."""


def one_line(exc: BaseException) -> str:
    """A library's multi-line message folded onto one line: the CLI reports an error as a single line."""
    return " ".join(str(exc).split())
