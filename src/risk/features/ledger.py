"""Rent-ledger features: balance, shortfall months, payment behaviour.

Definitions (also in ``docs/features.md``). Months are calendar months; "the last n
months" are the n complete calendar months before the as-of month (the as-of month
itself only counts in the balance). A ledger row belongs to the month of its
``event_date`` and is known once posted before as-of and dated before as-of.

The rent in force at as-of is the latest known ``rent_charge`` (:func:`rent_in_force_sql`),
not ``tenancies.monthly_rent``, which is the export's (today's) rent.

- *net debit* of a month: debits (:data:`risk.contract.DEBIT_KINDS`) minus credits
  (:data:`risk.contract.CREDIT_KINDS`, APL included) of that month;
- *shortfall month*: a month whose net debit exceeds :data:`SHORTFALL_TOLERANCE_SHARE`
  of the residual rent in force at as-of (its credits did not cover its charges) and
  that ended with the tenant owing more than that tolerance. A repayment month is never
  short, nor is a month already paid in advance (rent paid on the 30th of the month
  before) or covered by a credit balance;
- *partial payment*: a shortfall month in which the tenant paid something;
- *payment delay*: days from the first of the month to a tenant payment (0 on the 1st;
  rent is billed monthly and the contract carries no due date), averaged over the
  tenant payments of the last 6 months; a payment in the last
  :data:`EARLY_PAYMENT_DAYS` days of a month counts as day 0 (paid early);
- *direct-debit share*: share of those payments, among the ones with a known method,
  made by direct debit.

How it is computed, and why. The ledger is the one large table (tens of millions of
rows), so it is read in a single pass grouped by tenancy, with five aggregates: a
(tenancy, month) hash table, or one aggregate per month, cost several times more. The
twelve monthly net debits are summed exactly as integer cents packed into three
128-bit integers: month ``m`` of a word is ``cents * 2**(31 * m)``. Integer sums are
exact and associative, so each month is recovered from the word by arithmetic once a
constant bias has made every month non-negative. Payments are counted the same way.
This is exact while a month's net debit stays within +/-10.7 million EUR, a month
holds fewer than 256 tenant payments and the six months of the behaviour window fewer
than 1,024 (the direct-debit and known-method counts are 10 bits each), far beyond
any validated ledger (:data:`risk.contract.MAX_AMOUNT_EUR` caps a row at 100,000 EUR).
"""

from __future__ import annotations

from risk.contract import CREDIT_KINDS
from risk.features.point_in_time import AsOf, posted_before

#: A month is short when unpaid charges exceed this share of the residual rent: small
#: rounding gaps are not arrears.
SHORTFALL_TOLERANCE_SHARE = 0.10
#: Longest window, in complete calendar months, of any ledger feature.
WINDOW_MONTHS = 12
#: Windows of the shortfall counts.
SHORTFALL_WINDOWS = (3, 6, 12)
#: Window of the payment-behaviour features (partial payments, delay, direct debit).
BEHAVIOUR_MONTHS = 6
#: A tenant payment in the last this-many days of a month counts as paid on day 0 of
#: the next month in the payment delay: paying early is not paying late.
EARLY_PAYMENT_DAYS = 5
#: Window of the balance trend.
TREND_MONTHS = 3

# Monthly net debits: 31-bit signed cents, four months to a 128-bit word.
_NET_BITS = 31
_NET_BIAS = 2 ** (_NET_BITS - 1)
_MONTHS_PER_WORD = 4
_WORDS = WINDOW_MONTHS // _MONTHS_PER_WORD
# Activity word: for tenant payments of the behaviour window, a count per month (8 bits
# each), the sum of payment days, the direct-debit count and the count with a known
# method; above them, the net debit (31-bit signed cents) of the partial as-of month.
_COUNT_BITS = 8
_DAYS_SHIFT = _COUNT_BITS * BEHAVIOUR_MONTHS
_DEBIT_SHIFT = _DAYS_SHIFT + 20
_KNOWN_SHIFT = _DEBIT_SHIFT + 10
_CURRENT_SHIFT = _KNOWN_SHIFT + 10
# Latest rent charge: its amount in cents (below 2**24 = 167,772.16 EUR) under its time.
_RENT_CENTS_BITS = 24


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _hugeint(value: int) -> str:
    return f"CAST({value} AS HUGEINT)"


def _field(word: str, shift: int, bits: int) -> str:
    """Return SQL extracting the unsigned field of ``bits`` bits at ``shift`` in ``word``.

    Shifts and masks, not ``//`` and ``%``: 128-bit division is slow.
    """
    return f"CAST(({word} >> {shift}) & {2**bits - 1} AS BIGINT)"


def _in_months(date: str, starts: list[str], newest: int, oldest: int) -> str:
    """Return the predicate "``date`` is in months ``newest``..``oldest`` before as-of"."""
    return f"({date} >= {starts[oldest]} AND {date} < {starts[newest - 1]})"


def _by_month(date: str, starts: list[str], values: dict[int, str]) -> str:
    """Return a CASE giving ``values[m]`` for the month m holding ``date``.

    ``values`` is keyed by month, newest first; the caller has already checked that
    ``date`` falls within those months.
    """
    months = list(values)
    whens = [f"WHEN {date} >= {starts[m]} THEN {values[m]}" for m in months[:-1]]
    return f"CASE {' '.join(whens)} ELSE {values[months[-1]]} END"


def totals_ctes(as_of: AsOf) -> list[tuple[str, str]]:
    """Return the CTE aggregating, in one pass, the ledger known at as-of.

    A row counts when posted before as-of and event-dated before as-of (a row dated
    on or after as-of cannot be known that morning, whatever its posting date says).

    Returns
    -------
    list of (name, sql)
        ``ledger_totals`` (one row per tenancy with known ledger rows, packed, with
        ``rent_key``, see :func:`rent_in_force_sql`) and ``ledger_months`` (the same
        rows decoded).
    """
    # starts[m]: first day of the m-th calendar month before the as-of month.
    starts = [as_of.month_start_before_sql(m) for m in range(WINDOW_MONTHS + 1)]
    e = "l.event_date"
    net = f"CASE WHEN l.kind IN {_sql_list(CREDIT_KINDS)} THEN -l.amount ELSE l.amount END"
    cents = f"CAST(round(({net}) * 100) AS HUGEINT)"
    # Latest rent charge: its event time (ms >> 10: about seconds, 31 bits until 2038)
    # above its amount in cents, in one BIGINT, so that max() returns the latest charge
    # (the largest of a day) without an arg_max.
    rent_key = (
        f"((epoch_ms({e}) >> 10) << {_RENT_CENTS_BITS}) "
        f"+ CAST(round(l.amount * 100) AS BIGINT)"
    )
    aggregates = [
        f"sum({net}) AS balance",
        f"max(CASE WHEN l.kind = 'rent_charge' THEN {rent_key} END) AS rent_key",
    ]
    for w in range(_WORDS):
        months = range(w * _MONTHS_PER_WORD + 1, (w + 1) * _MONTHS_PER_WORD + 1)
        first = months[0]
        shift = _by_month(
            e, starts, {m: _hugeint(2 ** (_NET_BITS * (m - first))) for m in months}
        )
        aggregates.append(
            f"sum(CASE WHEN {_in_months(e, starts, months[0], months[-1])} "
            f"THEN {cents} * {shift} END) AS net_word_{w}"
        )
    behaviour = range(1, BEHAVIOUR_MONTHS + 1)
    month_count = _by_month(
        e, starts, {m: _hugeint(2 ** (_COUNT_BITS * (m - 1))) for m in behaviour}
    )
    # Payment delay: days after the 1st, but a payment in the last EARLY_PAYMENT_DAYS days
    # of a month pays the next month's rent early and counts as day 0.
    delay = (
        f"CASE WHEN day({e}) > day(last_day({e})) - {EARLY_PAYMENT_DAYS} THEN 0 "
        f"ELSE day({e}) - 1 END"
    )
    payment = (
        f"{month_count} + CAST({delay} AS HUGEINT) * {_hugeint(2**_DAYS_SHIFT)} "
        f"+ CASE WHEN l.payment_method IS NULL THEN 0 "
        f"WHEN l.payment_method = 'direct_debit' "
        f"THEN {_hugeint(2**_DEBIT_SHIFT + 2**_KNOWN_SHIFT)} "
        f"ELSE {_hugeint(2**_KNOWN_SHIFT)} END"
    )
    aggregates.append(
        f"sum(CASE WHEN l.kind = 'tenant_payment' "
        f"AND {_in_months(e, starts, behaviour[0], behaviour[-1])} THEN {payment} "
        f"WHEN {e} >= {starts[0]} THEN {cents} * {_hugeint(2**_CURRENT_SHIFT)} END) AS activity"
    )
    ledger_totals = f"""
        SELECT l.tenancy_id, {', '.join(aggregates)}
        FROM ledger l
        WHERE {posted_before('l', as_of)} AND {e} < {as_of.sql}
        GROUP BY l.tenancy_id"""
    months = range(1, WINDOW_MONTHS + 1)
    activity = f"(COALESCE(t.activity, 0) + {_hugeint(_NET_BIAS * 2**_CURRENT_SHIFT)})"
    decoded = ",\n               ".join(
        [f"{_month_net_cents(m)} AS net_{m}" for m in months]
        + [
            f"{_field(activity, _COUNT_BITS * (m - 1), _COUNT_BITS)} AS paid_{m}"
            for m in behaviour
        ]
    )
    ledger_months = f"""
        SELECT t.tenancy_id, t.balance,
               {_field(activity, _CURRENT_SHIFT, _NET_BITS)} - {_NET_BIAS} AS net_0,
               {_field(activity, _DAYS_SHIFT, _DEBIT_SHIFT - _DAYS_SHIFT)} AS payment_days,
               {_field(activity, _DEBIT_SHIFT, _KNOWN_SHIFT - _DEBIT_SHIFT)} AS debit_count,
               {_field(activity, _KNOWN_SHIFT, _CURRENT_SHIFT - _KNOWN_SHIFT)} AS known_count,
               {decoded}
        FROM ledger_totals t"""
    return [("ledger_totals", ledger_totals), ("ledger_months", ledger_months)]


def rent_in_force_sql(totals: str, fallback: str) -> str:
    """Return SQL for the rent in force at as-of, read from ``ledger_totals``.

    Parameters
    ----------
    totals
        Alias of ``ledger_totals`` (NULL columns when the tenancy has no known rows).
    fallback
        SQL of the rent used when no ``rent_charge`` is known: ``tenancies.monthly_rent``.
    """
    cents = _field(f"{totals}.rent_key", 0, _RENT_CENTS_BITS)
    return f"COALESCE(CAST({cents} AS DOUBLE) / 100, {fallback})"


def ctes(as_of: AsOf, base: str) -> list[tuple[str, str]]:
    """Return the CTE computing the ledger features' ingredients.

    Parameters
    ----------
    as_of
        The as-of date.
    base
        Name of the CTE with one row per present tenancy and its ``residual_rent``.

    Returns
    -------
    list of (name, sql)
        ``ledger_features``: one row per present tenancy with known ledger rows.
    """
    behaviour = range(1, BEHAVIOUR_MONTHS + 1)
    months = range(1, WINDOW_MONTHS + 1)
    # Balance at the end of month m (cents): today's balance minus every later month.
    tolerance = f"{SHORTFALL_TOLERANCE_SHARE} * b.residual_rent * 100"
    end_balance = {1: "(round(m.balance * 100) - m.net_0)"}
    for m in range(2, WINDOW_MONTHS + 1):
        end_balance[m] = f"({end_balance[m - 1]} - m.net_{m - 1})"
    short_bits = " + ".join(
        f"CASE WHEN m.net_{m} > {tolerance} AND {end_balance[m]} > {tolerance} "
        f"THEN {1 << (m - 1)} ELSE 0 END"
        for m in months
    )
    paid_bits = " + ".join(
        f"CASE WHEN m.paid_{m} > 0 THEN {1 << (m - 1)} ELSE 0 END" for m in behaviour
    )
    trend = " + ".join(f"m.net_{m}" for m in range(1, TREND_MONTHS + 1))
    payment_count = " + ".join(f"m.paid_{m}" for m in behaviour)
    ledger_features = f"""
        SELECT m.tenancy_id, m.balance,
               CAST(({trend}) AS DOUBLE) / 100 AS net_trend,
               CAST(({short_bits}) AS INTEGER) AS short_mask,
               CAST(({paid_bits}) AS INTEGER) AS paid_mask,
               CAST(({payment_count}) AS DOUBLE) AS payment_count,
               CAST(m.payment_days AS DOUBLE) AS payment_days,
               CAST(m.debit_count AS DOUBLE) AS debit_count,
               CAST(m.known_count AS DOUBLE) AS known_count
        FROM ledger_months m JOIN {base} b ON b.tenancy_id = m.tenancy_id"""
    return [("ledger_features", ledger_features)]


def _month_net_cents(month: int) -> str:
    """Return SQL decoding the net debit (cents) of ``month`` (1 = last complete month)."""
    w, slot = divmod(month - 1, _MONTHS_PER_WORD)
    bias = sum(_NET_BIAS * 2 ** (_NET_BITS * s) for s in range(_MONTHS_PER_WORD))
    word = f"(COALESCE(t.net_word_{w}, 0) + {_hugeint(bias)})"
    return f"({_field(word, _NET_BITS * slot, _NET_BITS)} - {_NET_BIAS})"


def _longest_run_sql(mask: str) -> str:
    # The longest run of ones is the number of shifts r for which
    # mask & mask>>1 & ... & mask>>(r-1) is still non-zero.
    terms = []
    for run in range(1, WINDOW_MONTHS + 1):
        conj = " & ".join([mask] + [f"({mask} >> {s})" for s in range(1, run)])
        terms.append(f"CAST(({conj}) <> 0 AS INTEGER)")
    return "(" + " + ".join(terms) + ")"


def _recent_run_sql(mask: str) -> str:
    # Bit 0 is the last complete month: count how many of the lowest bits are all ones.
    terms = [
        f"CAST(({mask} & {(1 << n) - 1}) = {(1 << n) - 1} AS INTEGER)"
        for n in range(1, WINDOW_MONTHS + 1)
    ]
    return "(" + " + ".join(terms) + ")"


def columns(base: str, features: str) -> dict[str, str]:
    """Return SQL expressions of the ledger features.

    Parameters
    ----------
    base
        Alias of the relation with one row per present tenancy and its ``residual_rent``.
    features
        Alias of ``ledger_features`` (NULL columns when the tenancy has no known rows).
    """
    mask = f"COALESCE({features}.short_mask, 0)"
    paid = f"COALESCE({features}.paid_mask, 0)"
    behaviour = (1 << BEHAVIOUR_MONTHS) - 1
    residual = f"NULLIF({base}.residual_rent, 0)"
    balance = f"COALESCE({features}.balance, 0)"
    counts = {
        f"shortfall_months_{n}m": f"bit_count({mask} & {(1 << n) - 1})" for n in SHORTFALL_WINDOWS
    }
    return {
        "balance_eur": balance,
        "balance_months": f"{balance} / {residual}",
        "balance_change_3m": f"COALESCE({features}.net_trend, 0) / {residual}",
        **counts,
        "longest_shortfall_run_12m": _longest_run_sql(mask),
        "months_since_full_payment": _recent_run_sql(mask),
        "partial_payment_share_6m": (
            f"bit_count({paid} & {mask} & {behaviour}) / NULLIF(bit_count({paid}), 0)"
        ),
        "mean_payment_delay_6m": (
            f"{features}.payment_days / NULLIF({features}.payment_count, 0)"
        ),
        "direct_debit_share_6m": (
            f"{features}.debit_count / NULLIF({features}.known_count, 0)"
        ),
    }
