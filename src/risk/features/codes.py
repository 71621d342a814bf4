"""Contract codes as small integers inside feature queries.

Aggregates such as ``arg_max`` are several times cheaper on one integer than on a
string or a struct, so a row's code is packed with its amount into one BIGINT
(:func:`pack_amount_sql`) and unpacked afterwards.
"""

from __future__ import annotations

#: Bits reserved under the amount for the code (up to 15 codes; 0 is "none").
CODE_BITS = 4


def code_sql(column: str, codes: tuple[str, ...]) -> str:
    """Return SQL mapping ``column`` to 1 + its position in ``codes`` (0 when NULL)."""
    if len(codes) >= 2**CODE_BITS:
        raise ValueError("too many codes to pack")
    whens = " ".join(f"WHEN '{c}' THEN {i + 1}" for i, c in enumerate(codes))
    return f"CASE {column} {whens} ELSE 0 END"


def decode_sql(code: str, codes: tuple[str, ...]) -> str:
    """Return SQL mapping a code from :func:`code_sql` back to its string (NULL for 0)."""
    whens = " ".join(f"WHEN {i + 1} THEN '{c}'" for i, c in enumerate(codes))
    return f"CASE {code} {whens} END"


def pack_amount_sql(amount: str, code: str) -> str:
    """Return SQL packing a non-negative EUR ``amount`` (to the cent) with a ``code``."""
    return f"(CAST(round({amount} * 100) AS BIGINT) * {2**CODE_BITS} + {code})"


def unpack_amount_sql(packed: str) -> str:
    """Return SQL for the EUR amount of a value from :func:`pack_amount_sql`."""
    return f"(({packed}) >> {CODE_BITS}) / 100.0"


def unpack_code_sql(packed: str) -> str:
    """Return SQL for the code of a value from :func:`pack_amount_sql`."""
    return f"(({packed}) & {2**CODE_BITS - 1})"
