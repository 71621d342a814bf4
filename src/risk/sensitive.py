"""Refusing columns that hold special-category personal data (GDPR art. 9).

A landlord may use only data it lawfully holds for rent management and social support;
nationality, ethnic origin, health, disability, religion, sexual orientation, political
opinion, union membership and criminal records must never reach a scoring model. Such
a column is refused on its *name* alone, in English or French, before any value is
read: a value check would miss them, and a legitimate code such as the income source
``disability_benefit`` is not a column at all.
"""

from __future__ import annotations

import re
import unicodedata

#: Stems refused wherever they occur in a column name (lower-cased, accents stripped,
#: separators removed), with the category of data they reveal.
SENSITIVE_STEMS: dict[str, str] = {
    "nationalit": "nationality",
    "citizenship": "nationality",
    "citoyennete": "nationality",
    # Country of birth is refused with nationality: it reveals origin just as well.
    "paysnaissance": "nationality",
    "paysdenaissance": "nationality",
    "countryofbirth": "nationality",
    "birthcountry": "nationality",
    "ethni": "ethnic origin",
    "racial": "racial origin",
    "health": "health",
    "medical": "health",
    "maladie": "health",
    "pathologi": "health",
    "grossesse": "health",
    "pregnan": "health",
    "handicap": "disability",
    "disabilit": "disability",
    "invalidit": "disability",
    "religi": "religion",
    "confessionnel": "religion",
    "sexual": "sexual orientation",
    "sexuel": "sexual orientation",
    "politicalopinion": "political opinion",
    "opinionpolitique": "political opinion",
    "syndical": "union membership",
    "tradeunion": "union membership",
    "unionmember": "union membership",
    "criminal": "criminal record",
    "casierjudiciaire": "criminal record",
    "genetic": "genetic data",
    "genetique": "genetic data",
    "biometri": "biometric data",
}
#: Short words refused only as a whole word of the name: as stems they would catch
#: innocent names (``sante`` is inside ``ressources_suffisantes``).
SENSITIVE_WORDS: dict[str, str] = {
    "sante": "health",
    "race": "racial origin",
    "politique": "political opinion",
    "political": "political opinion",
    "penal": "criminal record",
    "penale": "criminal record",
}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")


def normalise_name(name: str) -> list[str]:
    """Split a column name into lower-case ASCII words (``"AahHandicap"`` -> aah, handicap)."""
    text = unicodedata.normalize("NFKD", _CAMEL.sub("_", str(name)))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return [w for w in _SEPARATORS.split(text) if w]


def sensitive_category(name: str) -> str | None:
    """Return the special category a column name reveals, or ``None``.

    Parameters
    ----------
    name
        A column name as the export or mapping writes it.

    Returns
    -------
    str or None
        E.g. ``"disability"`` for ``aah_handicap`` or ``"nationality"`` for
        ``Nationalité``.
    """
    words = normalise_name(name)
    for word in words:
        if word in SENSITIVE_WORDS:
            return SENSITIVE_WORDS[word]
    compact = "".join(words)
    for stem, category in SENSITIVE_STEMS.items():
        if stem in compact:
            return category
    return None
