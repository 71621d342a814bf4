"""A plain pandas/numpy implementation of the feature catalogue, for the benchmark only.

Issue #7 times :func:`risk.features.build_features` (one DuckDB query) next to "a plain
pandas implementation of the same features". This module is that comparator: what a
competent pandas developer would write to get the same frame, vectorised throughout (no
loop over tenancies; the only Python loops run over the 12 months of the window or over
the columns of the output). The library never imports it: the one feature definition of
the library stays the SQL of :mod:`risk.features`, and
``tests/test_bench_pandas_features.py`` checks that both give exactly the same frame.

How it is organised. :func:`build_features_pandas` mirrors
:func:`risk.features.builder.feature_query` CTE by CTE:

- ``present`` -> :func:`_present`: the tenancies present at as-of, sorted by id; every
  other table is mapped once to integer positions in that order (:func:`_positions`),
  so that each aggregation is a ``groupby`` or an ``np.bincount`` on small integers
  rather than a hash of strings;
- ``income_now`` -> :func:`_income`: the in-force rows sorted by (effective, posted); the
  last row per tenancy is the current one, the last of its earliest effective date the
  entry one;
- ``apl_latest``, ``apl_lost``, ``apl_now`` -> :func:`_apl`, the same way;
- ``ledger_history``, ``ledger_recent`` -> :func:`_ledger`: one pass over the known rows;
  the older ones summed per tenancy, the window's ones summed per (tenancy, month) into
  an ``n x 13`` matrix of exact cents, plus the payment counts of the behaviour window;
- ``base`` -> :func:`_base`: rent in force, residual rent (the formula of
  :func:`risk.arrears.residual_rent_sql`) and balance in cents;
- ``ledger_features`` -> :func:`_shortfalls`: the shortfall months as an ``n x 12``
  boolean matrix (the SQL packs the same flags as bits of an integer);
- ``support_last_contact``, ``support_features`` -> :func:`_support`;
- the final SELECT -> :func:`_features`, expression by expression, in catalogue order.

The parameters (windows, thresholds, caps, bands) are imported from the library modules
that define them, so a change of parameter cannot make the two drift silently; a change
of rule must be made in both, and the equality test says when it was not.

Numerical details follow the SQL wherever they could change a value: amounts are rounded
to the cent half away from zero (DuckDB's ``round``, not numpy's half-to-even); monthly
ledger sums are rounded to the cent before any comparison, which makes the summation
order irrelevant; the household's consumption units are a DECIMAL in DuckDB
(``1.0 + 0.5 + 0.3 * children``), computed here in tenths then divided by 10, which
gives the same double. Dates are handled as ``datetime64[ns]`` (pandas may read a
Parquet date column with another unit or as ``date`` objects: they are converted once)
and are assumed at midnight, as the contract's dates are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk.arrears import RESIDUAL_RENT_FLOOR_SHARE
from risk.catalogue import FEATURES, INCOME_BAND_EDGES
from risk.contract import (
    CREDIT_KINDS,
    EMPLOYED_STATUSES,
    EMPLOYMENT_STATUSES,
    LEDGER_KINDS,
    SUPPORT_KINDS,
)
from risk.features.benefits import APL_CHANGE_MONTHS
from risk.features.income import (
    CHILD_UNITS,
    EFFORT_RATE_CAP,
    FIRST_ADULT_UNITS,
    NO_JOB_STATUSES,
    OTHER_ADULT_UNITS,
    TWO_ADULT_HOUSEHOLDS,
)
from risk.features.ledger import (
    _RENT_CENTS_FACTOR,
    BEHAVIOUR_MONTHS,
    EARLY_PAYMENT_DAYS,
    SHORTFALL_TOLERANCE_SHARE,
    SHORTFALL_WINDOWS,
    TREND_MONTHS,
    WINDOW_MONTHS,
)
from risk.features.support import CONTACT_MONTHS, HISTORY_MONTHS
from risk.features.tenancy import _AGE_BAND_FLOORS, NEW_ENTRANT_MONTHS, VISALE_AGE_LIMIT
from risk.portfolio import Portfolio
from risk.timeline import DateLike

_KIND = {k: i for i, k in enumerate(LEDGER_KINDS)}
_SUPPORT_KIND = {k: i for i, k in enumerate(SUPPORT_KINDS)}
_STATUS = {s: i for i, s in enumerate(EMPLOYMENT_STATUSES)}


# --- helpers --------------------------------------------------------------------------


def _dates(column: pd.Series) -> np.ndarray:
    """Return a date column as ``datetime64[ns]`` (NaT when empty), whatever pandas read."""
    if column.dtype == object:  # datetime.date objects from a Parquet date32 column
        column = pd.to_datetime(column)
    return column.to_numpy(dtype="datetime64[ns]")


def _month_index(dates: np.ndarray) -> np.ndarray:
    """Consecutive calendar-month numbers, as ``year * 12 + month`` up to a constant."""
    return dates.astype("datetime64[M]").astype(np.int64)


def _day(dates: np.ndarray) -> np.ndarray:
    """Day of the month, 1-based."""
    return (dates - dates.astype("datetime64[M]")).astype("timedelta64[D]").astype(np.int64) + 1


def _round(values: np.ndarray) -> np.ndarray:
    """Round half away from zero, as DuckDB's ``round`` (numpy rounds half to even)."""
    whole = np.trunc(values)
    # ``values - whole`` is exact in floating point, so the tie test is exact too.
    return np.where(np.abs(values - whole) >= 0.5, whole + np.sign(values), whole)


def _cents(euros: np.ndarray) -> np.ndarray:
    """EUR to integer cents, as ``CAST(round(x * 100) AS BIGINT)``."""
    return _round(np.asarray(euros, dtype=np.float64) * 100).astype(np.int64)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / NULLIF(denominator, 0)``: NaN where the denominator is 0 or NaN."""
    out = np.full(len(numerator), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _encode(column: pd.Series, values: pd.Index) -> np.ndarray:
    """Position of each entry of ``column`` in ``values``, -1 when absent or empty.

    ``pd.factorize`` first: on Arrow-backed strings it encodes in Arrow, without making
    one Python string per row as ``Index.get_indexer`` or ``pd.Categorical`` would (on a
    24 M-row ledger that is most of the time and gigabytes of memory). Only the few
    distinct values are then looked up.
    """
    codes, uniques = pd.factorize(column)
    # One more slot for factorize's -1 (empty value), which then maps to -1 as well;
    # int32 halves the per-row array that every later step indexes.
    lookup = np.append(values.get_indexer(uniques), -1).astype(np.int32)
    return lookup[codes]


def _codes(column: pd.Series, categories: tuple[str, ...], name: str) -> np.ndarray:
    """Positions of ``column``'s values in ``categories`` (-1 for an empty value)."""
    codes = _encode(column, pd.Index(categories))
    if ((codes == -1) & column.notna().to_numpy()).any():
        raise ValueError(f"{name}: values outside the catalogue's categories")
    return codes


def _last_per_group(sorted_positions: np.ndarray) -> np.ndarray:
    """Boolean mask of the last row of each run of equal values in a sorted array."""
    last = np.ones(len(sorted_positions), dtype=bool)
    last[:-1] = sorted_positions[1:] != sorted_positions[:-1]
    return last


@dataclass(frozen=True)
class _At:
    """The as-of date and the dates derived from it (``risk.features.point_in_time.AsOf``)."""

    date: pd.Timestamp

    @property
    def ns(self) -> np.datetime64:
        return self.date.to_datetime64().astype("datetime64[ns]")

    @property
    def month_index(self) -> int:
        return int(_month_index(np.array([self.ns]))[0])

    def months_before(self, months: int) -> np.datetime64:
        """As-of minus ``months`` calendar months, day for day (``add_months``)."""
        shifted = self.date - pd.DateOffset(months=months)
        return shifted.to_datetime64().astype("datetime64[ns]")

    def complete_months_since(self, start: np.ndarray) -> np.ndarray:
        """``complete_months_between``: a month completes on the same day of the month."""
        late = (_day(start) > self.date.day).astype(np.int64)
        return self.month_index - _month_index(start) - late


def _positions(present_ids: pd.Index, ids: pd.Series) -> np.ndarray:
    """Row position of each id among the present tenancies, -1 for any other tenancy."""
    return _encode(ids, present_ids)


# --- CTEs -----------------------------------------------------------------------------


def _present(tenancies: pd.DataFrame, at: _At) -> pd.DataFrame:
    # present_at: started strictly before as-of, not ended before it. Sorted by id as
    # the query's ORDER BY (byte order of UTF-8 is code-point order, as Python sorts).
    start, end = _dates(tenancies["start_date"]), _dates(tenancies["end_date"])
    present = (start < at.ns) & (np.isnat(end) | (end >= at.ns))
    out = tenancies.loc[present].sort_values("tenancy_id", kind="stable")
    return out.reset_index(drop=True)


def _in_force(frame: pd.DataFrame, present_ids: pd.Index, at: _At) -> pd.DataFrame:
    """Rows of a present tenancy in force at as-of (``in_force_at``), sorted for arg_max."""
    effective, posted = _dates(frame["effective_date"]), _dates(frame["posted_date"])
    pos = _positions(present_ids, frame["tenancy_id"])
    keep = (pos >= 0) & (posted < at.ns) & (effective < at.ns)
    rows = pd.DataFrame(
        {"pos": pos[keep], "effective": effective[keep], "posted": posted[keep]},
    )
    rows.index = np.flatnonzero(keep)
    # The ordering keys of the SQL arg_max: (effective_date, posted_date).
    return rows.sort_values(["pos", "effective", "posted"], kind="stable")


def _income(incomes: pd.DataFrame, present_ids: pd.Index, at: _At) -> dict[str, np.ndarray]:
    n = len(present_ids)
    rows = _in_force(incomes, present_ids, at)
    source = incomes.iloc[rows.index.to_numpy()]
    # Amount to the cent, status as its code (the SQL packs both into one BIGINT).
    rows["income"] = _cents(source["monthly_income"].to_numpy()) / 100.0
    rows["status"] = _codes(source["employment_status"], EMPLOYMENT_STATUSES, "employment")
    # Current: the latest (effective, posted). Entry: the earliest effective date, and
    # among its corrections the latest posted (arg_min on (effective, -posted)).
    current = rows[_last_per_group(rows["pos"].to_numpy())]
    first_effective = rows.groupby("pos")["effective"].transform("min")
    entry_rows = rows[rows["effective"] == first_effective]
    entry = entry_rows[_last_per_group(entry_rows["pos"].to_numpy())]
    out = {
        "income": np.full(n, np.nan),
        "status": np.full(n, -1),
        "entry_income": np.full(n, np.nan),
        "entry_status": np.full(n, -1),
    }
    out["income"][current["pos"]] = current["income"]
    out["status"][current["pos"]] = current["status"]
    out["entry_income"][entry["pos"]] = entry["income"]
    out["entry_status"][entry["pos"]] = entry["status"]
    return out


def _apl(apl: pd.DataFrame, present_ids: pd.Index, at: _At) -> dict[str, np.ndarray]:
    n = len(present_ids)
    rows = _in_force(apl, present_ids, at)
    source = apl.iloc[rows.index.to_numpy()]
    rows["raw"] = source["monthly_amount"].to_numpy(dtype=np.float64)
    rows["cents"] = _cents(rows["raw"].to_numpy())
    rows["to_landlord"] = source["paid_to_landlord"].to_numpy(dtype=bool)
    last = _last_per_group(rows["pos"].to_numpy())
    # apl_latest.current_row: the latest row in force, amount to the cent.
    current = rows[last]
    # apl_latest.amount_before: the latest row in force APL_CHANGE_MONTHS ago, as known
    # today, with its amount as recorded (the SQL does not round this one).
    earlier = rows[rows["effective"] < at.months_before(APL_CHANGE_MONTHS)]
    before = earlier[_last_per_group(earlier["pos"].to_numpy())]
    # apl_lost: the first zero row after the last positive one. The feature only reads
    # it when the amount in force is 0, so it is computed for every tenancy here.
    positive = rows[rows["raw"] > 0]
    last_positive = positive.groupby("pos")["effective"].max()
    after_positive = rows["effective"].to_numpy() > last_positive.reindex(rows["pos"]).to_numpy()
    zero_after = rows[(rows["raw"].to_numpy() == 0) & after_positive]
    lost = zero_after.groupby("pos")["effective"].min()

    out = {
        "amount": np.zeros(n),  # COALESCE(a.amount, 0): no APL row means not entitled
        "to_landlord": np.full(n, np.nan),
        "amount_before": np.full(n, np.nan),
        "lost_date": np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"),
    }
    out["amount"][current["pos"]] = current["cents"] / 100.0
    out["to_landlord"][current["pos"]] = current["to_landlord"]
    out["amount_before"][before["pos"]] = before["raw"]
    out["lost_date"][lost.index.to_numpy()] = lost.to_numpy()
    return out


@dataclass
class _Ledger:
    """The ledger aggregates of ``ledger_history`` and ``ledger_recent``, per tenancy."""

    history_cents: np.ndarray  # round(sum of net debits before the window), int64
    net_cents: np.ndarray  # n x (WINDOW_MONTHS + 1): net debit of month m before as-of
    rent_cents: np.ndarray  # latest rent charge in cents, -1 when none is known
    paid: np.ndarray  # n x BEHAVIOUR_MONTHS booleans: a tenant payment in month m
    payment_count: np.ndarray
    payment_days: np.ndarray
    debit_count: np.ndarray
    known_count: np.ndarray


def _ledger(ledger: pd.DataFrame, present_ids: pd.Index, at: _At) -> _Ledger:
    n = len(present_ids)
    event, posted = _dates(ledger["event_date"]), _dates(ledger["posted_date"])
    missing_posted = np.isnat(posted)
    if missing_posted.any():  # an empty posted date means the event date (source.py)
        posted = np.where(missing_posted, event, posted)
    pos = _positions(present_ids, ledger["tenancy_id"])
    # Known rows: posted before as-of and dated before as-of, of a present tenancy.
    known = (pos >= 0) & (posted < at.ns) & (event < at.ns)
    del posted, missing_posted
    pos, event = pos[known], event[known]
    kind = _encode(ledger["kind"], pd.Index(LEDGER_KINDS))[known]
    amount = ledger["amount"].to_numpy(dtype=np.float64)[known]
    if "payment_method" in ledger:
        # Codes, not strings: an object array of 24 M Python strings would dominate.
        method = ledger["payment_method"]
        method_known = method.notna().to_numpy()[known]
        direct_debit = (method == "direct_debit").to_numpy(dtype=bool, na_value=False)[known]
    else:  # optional column absent: every method unknown
        method_known = direct_debit = np.zeros(len(pos), dtype=bool)

    # Net debit of each row: credits count negative.
    credit = np.isin(kind, [_KIND[k] for k in CREDIT_KINDS])
    net = np.where(credit, -amount, amount)
    # m: calendar months before the as-of month (0 is the as-of month itself).
    m = at.month_index - _month_index(event)
    recent = m <= WINDOW_MONTHS

    # ledger_history: rows before the window, summed per tenancy then rounded to the cent.
    old = ~recent
    history = np.bincount(pos[old], weights=net[old], minlength=n)
    history_cents = _cents(history)
    # ledger_recent: the window's net debits per (tenancy, month), each month's sum
    # rounded to the cent (amounts are cents, so the float error is far below 1/2 cent).
    width = WINDOW_MONTHS + 1
    cell = pos[recent] * width + m[recent]
    net_cents = _cents(np.bincount(cell, weights=net[recent], minlength=n * width))
    net_cents = net_cents.reshape(n, width)

    # Rent in force: the latest rent charge (the largest of its day), through the same
    # integer key as the SQL: seconds since the epoch above the amount in cents. A
    # charge in the window is always later than an older one, so the maximum over every
    # known charge is COALESCE(recent key, history key).
    rent = kind == _KIND["rent_charge"]
    seconds = event[rent].astype("datetime64[s]").astype(np.int64)
    key = pd.Series(seconds * _RENT_CENTS_FACTOR + _cents(amount[rent]))
    latest = key.groupby(pos[rent]).max()
    rent_cents = np.full(n, -1, dtype=np.int64)
    rent_cents[latest.index.to_numpy()] = latest.to_numpy() % _RENT_CENTS_FACTOR

    # Payment behaviour: tenant payments of the BEHAVIOUR_MONTHS complete months.
    pay = (kind == _KIND["tenant_payment"]) & (m >= 1) & (m <= BEHAVIOUR_MONTHS)
    pay_pos, pay_event = pos[pay], event[pay]
    paid = np.zeros((n, BEHAVIOUR_MONTHS), dtype=bool)
    paid[pay_pos, m[pay] - 1] = True
    # Delay: days after the 1st, 0 for a payment in the last EARLY_PAYMENT_DAYS days.
    day = _day(pay_event)
    month_start = pay_event.astype("datetime64[M]")
    month_days = ((month_start + 1).astype("datetime64[D]") - month_start.astype("datetime64[D]"))
    month_days = month_days.astype(np.int64)
    delay = np.where(day > month_days - EARLY_PAYMENT_DAYS, 0, day - 1)
    return _Ledger(
        history_cents=history_cents,
        net_cents=net_cents,
        rent_cents=rent_cents,
        paid=paid,
        payment_count=np.bincount(pay_pos, minlength=n).astype(np.float64),
        payment_days=np.bincount(pay_pos, weights=delay, minlength=n),
        debit_count=np.bincount(pay_pos[direct_debit[pay]], minlength=n).astype(np.float64),
        known_count=np.bincount(pay_pos[method_known[pay]], minlength=n).astype(np.float64),
    )


def _base(present: pd.DataFrame, apl: dict[str, np.ndarray], ledger: _Ledger) -> dict:
    # Rent in force: the latest known rent charge, else the export's monthly rent.
    export_rent = present["monthly_rent"].to_numpy(dtype=np.float64)
    rent = np.where(ledger.rent_cents >= 0, ledger.rent_cents / 100, export_rent)
    # residual_rent_sql: APL is deducted only when paid to the landlord; floored.
    to_landlord = apl["to_landlord"] == 1  # NaN (no APL row) counts as FALSE
    deducted = np.where(to_landlord, apl["amount"], 0.0)
    residual = np.maximum(rent - deducted, RESIDUAL_RENT_FLOOR_SHARE * rent)
    balance_cents = ledger.history_cents + ledger.net_cents.sum(axis=1)
    return {"rent": rent, "residual": residual, "balance_cents": balance_cents}


def _shortfalls(base: dict, ledger: _Ledger) -> np.ndarray:
    """``ledger_features.short_mask`` as an ``n x WINDOW_MONTHS`` matrix (column m - 1)."""
    net = ledger.net_cents
    tolerance = (SHORTFALL_TOLERANCE_SHARE * base["residual"] * 100)[:, None]
    # Balance at the end of month m: today's balance minus the net debits of every later
    # month, 0 .. m - 1 (exact integer cents).
    later = np.cumsum(net[:, :WINDOW_MONTHS], axis=1)
    end_balance = base["balance_cents"][:, None] - later
    return (net[:, 1:] > tolerance) & (end_balance > tolerance)


def _longest_run(flags: np.ndarray) -> np.ndarray:
    """Longest run of True along each row (the SQL's shift-and on the mask)."""
    run = np.zeros(len(flags), dtype=np.int64)
    longest = np.zeros(len(flags), dtype=np.int64)
    for column in flags.T:  # 12 columns, vectorised over tenancies
        run = np.where(column, run + 1, 0)
        np.maximum(longest, run, out=longest)
    return longest


def _support(support: pd.DataFrame, present_ids: pd.Index, at: _At) -> dict[str, np.ndarray]:
    n = len(present_ids)
    start, posted = _dates(support["start_date"]), _dates(support["posted_date"])
    end = _dates(support["end_date"])
    pos = _positions(present_ids, support["tenancy_id"])
    known = (pos >= 0) & (posted < at.ns) & (start < at.ns)
    pos, start, end = pos[known], start[known], end[known]
    kind = _encode(support["kind"], pd.Index(SUPPORT_KINDS))[known]
    running = np.isnat(end) | (end >= at.ns)
    recent = start >= at.months_before(HISTORY_MONTHS)

    def flag(name: str, rule: np.ndarray) -> np.ndarray:
        hit = np.zeros(n, dtype=bool)
        hit[pos[(kind == _SUPPORT_KIND[name]) & rule]] = True
        return hit

    # An attempt counts as failed when no contact was made on or after its day.
    made = kind == _SUPPORT_KIND["contact_made"]
    last_contact = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    latest = pd.Series(start[made]).groupby(pos[made]).max()
    last_contact[latest.index.to_numpy()] = latest.to_numpy()
    attempt = (kind == _SUPPORT_KIND["contact_attempt"]) & (
        start >= at.months_before(CONTACT_MONTHS)
    )
    contact = last_contact[pos]
    failed = attempt & (np.isnat(contact) | (start > contact))
    return {
        "social_support_active": flag("social_support", running),
        "payment_plan_active": flag("payment_plan", running),
        "solidarity_aid_12m": flag("solidarity_fund_aid", recent),
        "social_watch_referral_12m": flag("social_watch_referral", recent),
        "failed_contacts_6m": np.bincount(pos[failed], minlength=n).astype(np.float64),
    }


# --- final SELECT ---------------------------------------------------------------------


def _features(
    present: pd.DataFrame,
    at: _At,
    income: dict[str, np.ndarray],
    apl: dict[str, np.ndarray],
    base: dict,
    ledger: _Ledger,
    support: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Every catalogue feature as an array: float64, or category codes (-1 unknown)."""
    f: dict[str, np.ndarray] = {}
    as_float = np.float64

    # Tenancy (risk.features.tenancy).
    guarantee = present["guarantee"]
    age = at.date.year - present["tenant_birth_year"].to_numpy(dtype=np.int64)
    tenure = at.complete_months_since(_dates(present["start_date"]))
    f["guarantee_type"] = _codes(guarantee, FEATURE_CATEGORIES["guarantee_type"], "guarantee")
    f["has_guarantee"] = (guarantee != "none").to_numpy(dtype=as_float)
    f["aged_30_or_over"] = (age >= VISALE_AGE_LIMIT).astype(as_float)
    f["age_band"] = np.searchsorted(np.array(_AGE_BAND_FLOORS), age, side="right")
    household = present["household_type"]
    f["household_type"] = _codes(household, FEATURE_CATEGORIES["household_type"], "household")
    children = present["children"].to_numpy(dtype=np.int64)
    f["children"] = children.astype(as_float)

    # Income and affordability (risk.features.income).
    inc, rent, apl_amount = income["income"], base["rent"], apl["amount"]
    known_income = ~np.isnan(inc)
    f["income_monthly"] = inc
    band = np.searchsorted(np.array(INCOME_BAND_EDGES), inc, side="right")
    f["income_band"] = np.where(known_income, band, -1)
    f["income_change_since_entry"] = _ratio(inc, income["entry_income"]) - 1
    f["employment_status"] = income["status"]
    employed = np.isin(income["entry_status"], [_STATUS[s] for s in EMPLOYED_STATUSES])
    no_job = np.isin(income["status"], [_STATUS[s] for s in NO_JOB_STATUSES])
    f["job_lost_since_entry"] = np.where(known_income, employed & no_job, np.nan)
    f["monthly_rent"] = rent
    f["residual_rent"] = base["residual"]
    rent_net = np.maximum(rent - apl_amount, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        affordable = np.minimum(rent_net / inc, EFFORT_RATE_CAP)
    no_income = np.where(rent_net > 0, EFFORT_RATE_CAP, 0.0)
    f["effort_rate"] = np.where(known_income, np.where(inc <= 0, no_income, affordable), np.nan)
    # Consumption units in tenths: DuckDB sums them as an exact DECIMAL, then casts.
    two_adults = household.isin(TWO_ADULT_HOUSEHOLDS).to_numpy()
    tenths = (
        round(FIRST_ADULT_UNITS * 10)
        + np.where(two_adults, round(OTHER_ADULT_UNITS * 10), 0)
        + round(CHILD_UNITS * 10) * children
    )
    f["remaining_income_per_cu"] = (inc - (rent - apl_amount)) / (tenths / 10)

    # APL (risk.features.benefits).
    entitled = apl_amount > 0
    f["apl_entitled"] = entitled.astype(as_float)
    f["apl_amount"] = apl_amount
    f["apl_rent_share"] = _ratio(apl_amount, rent)
    too_recent = _dates(present["start_date"]) >= at.months_before(APL_CHANGE_MONTHS)
    change = apl_amount - np.nan_to_num(apl["amount_before"], nan=0.0)
    f["apl_change_3m"] = np.where(too_recent, np.nan, change)
    lost = apl["lost_date"]
    since_lost = at.complete_months_since(lost).astype(as_float)
    f["apl_months_since_lost"] = np.where((apl_amount == 0) & ~np.isnat(lost), since_lost, np.nan)
    f["apl_paid_to_landlord"] = np.where(entitled, apl["to_landlord"], np.nan)

    # Ledger (risk.features.ledger).
    short = _shortfalls(base, ledger)
    residual = base["residual"]
    balance = base["balance_cents"] / 100
    trend = ledger.net_cents[:, 1 : TREND_MONTHS + 1].sum(axis=1) / 100
    f["balance_eur"] = balance
    f["balance_months"] = _ratio(balance, residual)
    f["balance_change_3m"] = _ratio(trend, residual)
    for months in SHORTFALL_WINDOWS:
        f[f"shortfall_months_{months}m"] = short[:, :months].sum(axis=1).astype(as_float)
    f["longest_shortfall_run_12m"] = _longest_run(short).astype(as_float)
    # Months since full payment: the run of shortfall months ending last month.
    f["months_since_full_payment"] = np.cumprod(short, axis=1).sum(axis=1).astype(as_float)
    partial = (ledger.paid & short[:, :BEHAVIOUR_MONTHS]).sum(axis=1)
    f["partial_payment_share_6m"] = _ratio(
        partial.astype(as_float), ledger.paid.sum(axis=1).astype(as_float)
    )
    f["mean_payment_delay_6m"] = _ratio(ledger.payment_days, ledger.payment_count)
    f["direct_debit_share_6m"] = _ratio(ledger.debit_count, ledger.known_count)

    # Tenure and calendar (risk.features.tenancy).
    f["months_since_entry"] = tenure.astype(as_float)
    f["new_entrant"] = (tenure < NEW_ENTRANT_MONTHS).astype(as_float)
    residence = present["residence_type"]
    f["residence_type"] = _codes(residence, FEATURE_CATEGORIES["residence_type"], "residence")
    f["calendar_month"] = np.full(len(present), float(at.date.month))

    # Support (risk.features.support).
    for name, values in support.items():
        f[name] = values.astype(as_float)
    return f


#: The categories of each categorical feature, as the catalogue lists them.
FEATURE_CATEGORIES = {feat.name: tuple(feat.categories) for feat in FEATURES if feat.categories}


def build_features_pandas(portfolio: Portfolio, as_of: DateLike) -> pd.DataFrame:
    """Compute the catalogue's features at one as-of date with pandas and numpy only.

    The benchmark's comparator for :func:`risk.features.build_features`: the same rules
    (see ``docs/features.md``) written as vectorised pandas, section by section of the
    feature SQL (see the module docstring). Not used by the library.

    Parameters
    ----------
    portfolio
        The portfolio, as frames in memory.
    as_of
        One as-of date (midnight); only facts posted strictly before it are used.

    Returns
    -------
    pandas.DataFrame
        Exactly the frame ``build_features(portfolio, as_of)`` returns: one row per
        tenancy present at ``as_of``, sorted by ``tenancy_id``, with columns
        ``tenancy_id``, ``as_of`` (datetime64[ns]) and every catalogue feature in
        catalogue order (float64 with NaN when unknown, bools as 1.0/0.0, categorical
        features as ``category`` with the catalogue's categories).
    """
    at = _At(pd.Timestamp(as_of).normalize())
    present = _present(portfolio.tenancies, at)
    ids = pd.Index(present["tenancy_id"])
    income = _income(portfolio.incomes, ids, at)
    apl = _apl(portfolio.apl, ids, at)
    ledger = _ledger(portfolio.ledger, ids, at)
    base = _base(present, apl, ledger)
    support = _support(portfolio.support, ids, at)
    values = _features(present, at, income, apl, base, ledger, support)

    columns: dict[str, object] = {
        "tenancy_id": present["tenancy_id"],
        "as_of": np.full(len(present), at.ns, dtype="datetime64[ns]"),
    }
    for feature in FEATURES:
        if feature.dtype == "categorical":
            columns[feature.name] = pd.Categorical.from_codes(
                values[feature.name], categories=pd.Index(feature.categories)
            )
        else:
            columns[feature.name] = values[feature.name].astype(np.float64, copy=False)
    return pd.DataFrame(columns)
