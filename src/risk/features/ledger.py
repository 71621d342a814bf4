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
rows), and only the balance and the rent in force need its whole history; every other
ledger feature looks at the last :data:`WINDOW_MONTHS` complete months and the current
one. So the rows are read in two plain aggregations grouped by tenancy, which split the
known rows by event date and together touch each row once:

- ``ledger_history``: rows older than the window, two aggregates (their net debit and
  the latest rent charge);
- ``ledger_recent``: the window's rows (about a fifth of a five-year ledger), with one
  conditional sum per month of net debits in integer cents (exact) and the payment
  counts of the behaviour window.

A (tenancy, month) table would be simpler to write but costs several times more on
millions of groups. Everything is standard SQL (CASE, sum, count, max, year/month),
except the epoch-seconds function behind the rent key (:func:`epoch_seconds_sql`).
"""

from __future__ import annotations

from risk.contract import CREDIT_KINDS
from risk.features.point_in_time import AsOf, epoch_seconds_sql, month_index_sql, posted_before

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

# The rent key orders rent charges by event time, then amount: the time in seconds
# above the amount in cents (below 2**24 = 167,772.16 EUR), so that one max() returns
# the latest charge (the largest of a day) without an arg_max.
_RENT_CENTS_FACTOR = 2**24


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _known_rows(as_of: AsOf) -> str:
    # A row counts when posted before as-of and event-dated before as-of (a row dated
    # on or after as-of cannot be known that morning, whatever its posting date says).
    # Both are plain comparisons with literals, pushed into the Parquet scan.
    return f"{posted_before('l', as_of)} AND l.event_date < {as_of.sql}"


def _net_sql() -> str:
    """Return SQL of a row's net debit, EUR: debits count positive, credits negative."""
    return f"CASE WHEN l.kind IN {_sql_list(CREDIT_KINDS)} THEN -l.amount ELSE l.amount END"


def _rent_key_sql() -> str:
    return (
        f"CASE WHEN l.kind = 'rent_charge' THEN {epoch_seconds_sql('l.event_date')} "
        f"* {_RENT_CENTS_FACTOR} + CAST(round(l.amount * 100) AS BIGINT) END"
    )


def totals_ctes(as_of: AsOf) -> list[tuple[str, str]]:
    """Return the CTEs aggregating the ledger known at as-of, per tenancy.

    Returns
    -------
    list of (name, sql)
        ``ledger_history`` (rows dated before the window: ``balance``, EUR, and
        ``rent_key``) and ``ledger_recent`` (rows of the window: ``net_<m>``, the net
        debit in cents of month ``m`` before the as-of month, 0 being the as-of month
        itself; ``paid_mask``, bit ``m - 1`` set when month ``m`` of the behaviour
        window holds a tenant payment; ``payment_count``, ``payment_days``,
        ``debit_count`` and ``known_count`` over those payments; ``rent_key``). See
        :func:`rent_in_force_sql` for the rent key.
    """
    window_start = as_of.month_start_before_sql(WINDOW_MONTHS)
    ledger_history = f"""
        SELECT l.tenancy_id, sum({_net_sql()}) AS balance, max({_rent_key_sql()}) AS rent_key
        FROM ledger l
        WHERE {_known_rows(as_of)} AND l.event_date < {window_start}
        GROUP BY l.tenancy_id"""
    e = "l.event_date"
    # Each row's month, net debit and payment flag are computed once, then summed by
    # month with plain conditional aggregates. A month's sum is rounded to the cent:
    # amounts are in cents, so the float error of a sum is far below half a cent.
    recent_rows = f"""
            SELECT l.tenancy_id, l.event_date, l.payment_method,
                   {as_of.month_index} - {month_index_sql(e)} AS m,
                   {_net_sql()} AS net,
                   l.kind = 'tenant_payment' AND {e} < {as_of.month_start_before_sql(0)}
                       AND {e} >= {as_of.month_start_before_sql(BEHAVIOUR_MONTHS)} AS payment,
                   {_rent_key_sql()} AS rent_key
            FROM ledger l
            WHERE {_known_rows(as_of)} AND {e} >= {window_start}"""
    # Payment delay: days after the 1st, but a payment in the last EARLY_PAYMENT_DAYS days
    # of a month pays the next month's rent early and counts as day 0.
    d = "r.event_date"
    delay = (
        f"CASE WHEN day({d}) > day(last_day({d})) - {EARLY_PAYMENT_DAYS} THEN 0 "
        f"ELSE day({d}) - 1 END"
    )
    bit = " ".join(f"WHEN {m} THEN {1 << (m - 1)}" for m in range(1, BEHAVIOUR_MONTHS + 1))
    aggregates = [
        *(
            f"CAST(round(sum(CASE WHEN r.m = {m} THEN r.net END) * 100) AS BIGINT) AS net_{m}"
            for m in range(WINDOW_MONTHS + 1)
        ),
        f"bit_or(CASE WHEN r.payment THEN CASE r.m {bit} END END) AS paid_mask",
        "count(CASE WHEN r.payment THEN 1 END) AS payment_count",
        f"sum(CASE WHEN r.payment THEN {delay} END) AS payment_days",
        "count(CASE WHEN r.payment AND r.payment_method = 'direct_debit' THEN 1 END) "
        "AS debit_count",
        "count(CASE WHEN r.payment THEN r.payment_method END) AS known_count",
        "max(r.rent_key) AS rent_key",
    ]
    ledger_recent = f"""
        SELECT r.tenancy_id, {', '.join(aggregates)}
        FROM ({recent_rows}) r
        GROUP BY r.tenancy_id"""
    return [("ledger_history", ledger_history), ("ledger_recent", ledger_recent)]


#: Columns of ``ledger_recent`` that the base CTE carries for :func:`ctes`.
_RECENT_COLUMNS = (
    *(f"net_{m}" for m in range(WINDOW_MONTHS + 1)),
    "paid_mask", "payment_count", "payment_days", "debit_count", "known_count",
)


def base_columns(history: str, recent: str) -> str:
    """Return the SELECT list the base CTE takes from the ledger aggregates.

    Parameters
    ----------
    history, recent
        Aliases of ``ledger_history`` and ``ledger_recent`` (NULL columns when the
        tenancy has no such rows).

    Returns
    -------
    str
        ``balance_cents`` (the balance at as-of in exact cents, 0 without any known
        row) and the ``ledger_recent`` columns :func:`ctes` reads, prefixed ``ledger_``.
    """
    months = " + ".join(f"COALESCE({recent}.net_{m}, 0)" for m in range(WINDOW_MONTHS + 1))
    balance = f"(COALESCE(CAST(round({history}.balance * 100) AS BIGINT), 0) + {months})"
    carried = ", ".join(f"{recent}.{c} AS ledger_{c}" for c in _RECENT_COLUMNS)
    return f"{balance} AS balance_cents, {carried}"


def rent_in_force_sql(history: str, recent: str, fallback: str) -> str:
    """Return SQL for the rent in force at as-of, read from the ledger aggregates.

    Parameters
    ----------
    history, recent
        Aliases of ``ledger_history`` and ``ledger_recent``: a charge of the window is
        always later than an older one, so the recent key wins when there is one.
    fallback
        SQL of the rent used when no ``rent_charge`` is known: ``tenancies.monthly_rent``.
    """
    key = f"COALESCE({recent}.rent_key, {history}.rent_key)"
    # The amount is the key modulo the factor, made non-negative whatever the sign
    # convention of % (a charge dated before 1970 has a negative key).
    f = _RENT_CENTS_FACTOR
    cents = f"(({key} % {f}) + {f}) % {f}"
    return f"COALESCE(CAST({cents} AS DOUBLE) / 100, {fallback})"


def ctes(as_of: AsOf, base: str) -> list[tuple[str, str]]:
    """Return the CTE computing the ledger features' ingredients.

    Parameters
    ----------
    as_of
        The as-of date.
    base
        Name of the CTE with one row per present tenancy, its ``residual_rent`` and the
        columns of :func:`base_columns`.

    Returns
    -------
    list of (name, sql)
        ``ledger_features``: one row per present tenancy.
    """
    months = range(1, WINDOW_MONTHS + 1)
    # Balance at the end of month m (cents): today's balance minus every later month.
    tolerance = f"{SHORTFALL_TOLERANCE_SHARE} * b.residual_rent * 100"
    net = {m: f"COALESCE(b.ledger_net_{m}, 0)" for m in range(WINDOW_MONTHS + 1)}
    end_balance = {1: f"(b.balance_cents - {net[0]})"}
    for m in range(2, WINDOW_MONTHS + 1):
        end_balance[m] = f"({end_balance[m - 1]} - {net[m - 1]})"
    short_bits = " + ".join(
        f"CASE WHEN {net[m]} > {tolerance} AND {end_balance[m]} > {tolerance} "
        f"THEN {1 << (m - 1)} ELSE 0 END"
        for m in months
    )
    trend = " + ".join(net[m] for m in range(1, TREND_MONTHS + 1))
    ledger_features = f"""
        SELECT b.tenancy_id,
               CAST(b.balance_cents AS DOUBLE) / 100 AS balance,
               CAST(({trend}) AS DOUBLE) / 100 AS net_trend,
               CAST(({short_bits}) AS INTEGER) AS short_mask,
               COALESCE(b.ledger_paid_mask, 0) AS paid_mask,
               CAST(b.ledger_payment_count AS DOUBLE) AS payment_count,
               CAST(b.ledger_payment_days AS DOUBLE) AS payment_days,
               CAST(b.ledger_debit_count AS DOUBLE) AS debit_count,
               CAST(b.ledger_known_count AS DOUBLE) AS known_count
        FROM {base} b"""
    return [("ledger_features", ledger_features)]


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
