"""The report's wording and number formats, by language (French first).

The prose lives in ``risk/templates/report/<lang>.yaml`` so that a reviewer can correct
a sentence without reading code; numbers are formatted here, the French way in French
(decimal comma, narrow no-break space before ``%``, thousands separated by a space).
"""

from __future__ import annotations

import math
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

LANGUAGES = ("fr", "en")
#: Error raised for a language the report is not written in.
UNKNOWN_LANGUAGE = "report language must be one of {known}, got {lang!r}"
#: Error raised when a wording key is missing from a language file.
MISSING_TEXT = "the {lang} wording has no entry {key!r}"

_NBSP = "\u202f"  # narrow no-break space: French thousands and before % and €
_DASH = "\u2014"  # shown for a value that does not exist (NaN)


@cache
def wording(lang: str) -> dict[str, Any]:
    """Return the wording of one language, read once from the package data."""
    if lang not in LANGUAGES:
        raise ValueError(UNKNOWN_LANGUAGE.format(known=", ".join(LANGUAGES), lang=lang))
    source = files("risk") / "templates" / "report" / f"{lang}.yaml"
    return yaml.safe_load(source.read_text(encoding="utf-8"))


class Text:
    """Look-ups and number formats of one language.

    Parameters
    ----------
    lang
        ``fr`` or ``en``.
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.words = wording(lang)

    def __call__(self, key: str, **values: Any) -> Any:
        """Return the entry at a dotted ``key``, formatted with ``values`` when it is text."""
        node: Any = self.words
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(MISSING_TEXT.format(lang=self.lang, key=key))
            node = node[part]
        if isinstance(node, str) and values:
            return node.format(**values)
        return node

    # --- numbers -------------------------------------------------------------------------

    def number(self, value: Any, digits: int = 3) -> str:
        """Write a decimal number, ``0,864`` in French; a dash when missing."""
        if not _finite(value):
            return _DASH
        text = f"{float(value):,.{digits}f}"
        if self.lang == "fr":
            return text.replace(",", _NBSP).replace(".", ",")
        return text

    def integer(self, value: Any) -> str:
        """Write a whole number with thousands separated (``12 345`` / ``12,345``)."""
        if not _finite(value):
            return _DASH
        text = f"{round(float(value)):,d}"
        return text.replace(",", _NBSP) if self.lang == "fr" else text

    def percent(self, value: Any, digits: int = 1) -> str:
        """Write a share as a percentage (``30,5 %`` / ``30.5%``)."""
        if not _finite(value):
            return _DASH
        text = self.number(100 * float(value), digits)
        return f"{text}{_NBSP}%" if self.lang == "fr" else f"{text}%"

    def interval(self, value: Any, low: Any, high: Any, *, percent: bool = False) -> str:
        """Write a value with its 95 % interval: ``0,864 [0,809 ; 0,915]``."""
        show = self.percent if percent else self.number
        if not (_finite(low) and _finite(high)):
            return show(value)
        separator = " ; " if self.lang == "fr" else ", "
        return f"{show(value)} [{show(low)}{separator}{show(high)}]"

    def euros(self, value: Any) -> str:
        """Write an amount in euros, rounded to the euro."""
        if not _finite(value):
            return _DASH
        return (
            f"{self.integer(value)}{_NBSP}€" if self.lang == "fr" else f"EUR {self.integer(value)}"
        )

    def date(self, value: Any) -> str:
        """Write a date as ``2021-07-01``: ISO in both languages, as in the logs."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return _DASH
        return str(value)[:10]


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
