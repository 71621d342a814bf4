"""The building blocks of a report section, rendered by one generic template.

A section is a title and a list of blocks: paragraphs, bullet lists, tables, key-value
tables, figures and notes. Builders produce plain data, the template turns it into
HTML, so the wording and the numbers can be tested without parsing HTML. Every text is
plain text: the template escapes it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Kinds of notes, styled differently: ``info`` explains, ``warn`` flags a problem,
#: ``todo`` marks an integration point or a field the organisation must fill.
NOTE_KINDS = ("info", "warn", "todo")
#: Error raised for an unknown note kind.
BAD_NOTE = "note kind must be one of {known}, got {kind!r}"


@dataclass
class Section:
    """One numbered section of the report.

    Attributes
    ----------
    key
        Stable identifier, used as the HTML anchor (``identity``, ``performance``...).
    number
        1 to 11.
    title
        Heading in the report's language.
    blocks
        The section's content, in order.
    """

    key: str
    number: int
    title: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def add(self, *blocks: dict[str, Any] | None) -> Section:
        """Append blocks, skipping ``None``; return the section."""
        self.blocks.extend(b for b in blocks if b is not None)
        return self


def para(text: str) -> dict[str, Any]:
    """Make a paragraph of plain text."""
    return {"kind": "para", "text": str(text)}


def heading(text: str) -> dict[str, Any]:
    """Make a sub-heading inside a section."""
    return {"kind": "heading", "text": str(text)}


def bullets(items: Iterable[str]) -> dict[str, Any]:
    """Make a bullet list."""
    return {"kind": "bullets", "items": [str(i) for i in items]}


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    caption: str | None = None,
    *,
    flagged: Iterable[int] = (),
    numeric_from: int = 1,
    numeric_to: int | None = None,
) -> dict[str, Any]:
    """Make a table.

    ``flagged`` rows (by position) are highlighted; columns ``numeric_from`` up to
    ``numeric_to`` (excluded; the last column when None) hold numbers, right-aligned.
    """
    return {
        "kind": "table",
        "headers": [str(h) for h in headers],
        "rows": [[str(c) for c in row] for row in rows],
        "caption": caption,
        "flagged": set(flagged),
        "numeric_from": numeric_from,
        "numeric_to": len(headers) if numeric_to is None else numeric_to,
    }


def pairs(items: Iterable[tuple[str, Any]], caption: str | None = None) -> dict[str, Any]:
    """Make a two-column key-value table."""
    return {"kind": "pairs", "items": [(str(k), str(v)) for k, v in items], "caption": caption}


def figure(png: bytes, caption: str, alt: str | None = None) -> dict[str, Any]:
    """Embed a PNG image as a ``data:`` URI, so the report needs no other file."""
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return {"kind": "figure", "src": uri, "caption": str(caption), "alt": str(alt or caption)}


def note(text: str, kind: str = "info") -> dict[str, Any]:
    """Make a highlighted note."""
    if kind not in NOTE_KINDS:
        raise ValueError(BAD_NOTE.format(known=", ".join(NOTE_KINDS), kind=kind))
    return {"kind": "note", "text": str(text), "style": kind}


def signatures(headers: Sequence[str], roles: Iterable[str]) -> dict[str, Any]:
    """Sign-off table: one row per role, every other cell blank to fill by hand."""
    return {"kind": "signatures", "headers": [str(h) for h in headers], "roles": list(roles)}
