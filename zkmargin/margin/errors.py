"""The error the margin documents raise: ``SchemaError``, naming the file, the field and the value.

A message reads ``<source>: <path>: <what is wrong>``, for example::

    portfolio.json: positions[2].size: "12.3456789" has 7 decimals, the model allows 6

where ``source`` is the file (as given to the loader) or the document kind when a dict was
loaded, and ``path`` is the JSON path of the field (``instruments[1].rate_brackets[0].up_to``).
"""

from __future__ import annotations

from zkmargin.errors import MalformedInputError

__all__ = ["SchemaError"]


class SchemaError(MalformedInputError):
    """A venue model, market data or portfolio document is malformed or inconsistent.

    Attributes:
        source: the file name, or the document kind ("portfolio") for an in-memory document.
        path: the JSON path of the offending field ("" for the whole document).
        reason: the message without source and path.
    """

    def __init__(self, source: str, path: str, reason: str) -> None:
        self.source = source
        self.path = path
        self.reason = reason
        super().__init__(": ".join(p for p in (source, path, reason) if p))
