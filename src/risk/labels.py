"""Labels: what the model learns to predict, chosen by name.

A label answers, for one tenancy present at one as-of date, "did this household fall
into arrears within the next months?". Several definitions coexist, registered in
:data:`LABELS` with an English and a French one-liner that the documentation
(``docs/labels.md``) and the auditor report quote:

- ``first_arrears`` (default): first crossing of the shared arrears threshold
  (:data:`risk.arrears.ARREARS_MONTHS` months of residual rent) at a month-end;
- ``decree_2027``: the rule in force from January 2027 (more than 450 EUR, or three
  months of residual rent, unpaid at a month-end);
- ``outcomes``: a table of outcomes supplied by the team (:func:`read_outcomes`).

Time rules. Facts are placed in time by their ``event_date``; ``posted_date`` serves
only the knowledge cut-off ``known_until``: a label reads the facts posted strictly
before it, and a label whose horizon ends after it is left empty (``incomplete``), so
that test months never leak into training labels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import duckdb
import pandas as pd

from risk.arrears import ARREARS_MONTHS, behind_sql, residual_rent_sql
from risk.contract import CREDIT_KINDS, DEBIT_KINDS
from risk.outcomes import validate_outcomes
from risk.portfolio import Portfolio
from risk.timeline import DateLike, add_months, as_of_dates, month_start, presence_sql

STATUS_POSITIVE = "positive"
STATUS_NEGATIVE = "negative"
STATUS_DEPARTED_WITH_DEBT = "departed_with_debt"
STATUS_DEPARTED_WITHOUT_DEBT = "departed_without_debt"
STATUS_IN_ARREARS = "in_arrears_at_as_of"
STATUS_INCOMPLETE = "incomplete"
STATUS_NO_OUTCOME = "no_outcome"
#: Label value of every status; ``None`` means the label is empty (``<NA>``).
STATUS_LABEL: Mapping[str, int | None] = MappingProxyType(
    {
        STATUS_POSITIVE: 1,
        STATUS_DEPARTED_WITH_DEBT: 1,
        STATUS_NEGATIVE: 0,
        STATUS_DEPARTED_WITHOUT_DEBT: 0,
        STATUS_IN_ARREARS: None,
        STATUS_INCOMPLETE: None,
        STATUS_NO_OUTCOME: None,
    }
)
#: Every status, in the order of the codes the SQL returns.
STATUSES = tuple(STATUS_LABEL)

#: A household leaving during the horizon with at least this many months of residual
#: rent unpaid at its exit date counts as having fallen into arrears.
EXIT_DEBT_MONTHS = 1.0
DEFAULT_HORIZON_MONTHS = 3
#: The rule in force from January 2027: more than this debt, EUR, or this many months.
DECREE_2027_EUR = 450.0
DECREE_2027_MONTHS = 3.0


OUTPUT_COLUMNS = ("tenancy_id", "as_of", "label", "status")


@dataclass(frozen=True)
class LabelDefinition:
    """One named label.

    Parameters
    ----------
    name
        Registry name, passed as ``label=`` to :func:`build_labels`.
    description_en, description_fr
        One-line definitions quoted by the documentation and the auditor report.
    source
        ``ledger`` (computed from the portfolio) or ``outcomes`` (a supplied table).
    threshold_months
        In arrears from this unpaid balance, in months of residual rent (inclusive).
    threshold_eur
        Also in arrears when the unpaid balance is strictly above this amount, EUR.
    """

    name: str
    description_en: str
    description_fr: str
    source: Literal["ledger", "outcomes"] = "ledger"
    threshold_months: float | None = None
    threshold_eur: float | None = None


_DEFINITIONS = (
    LabelDefinition(
        name="first_arrears",
        description_en=(
            "A household below the arrears threshold at the as-of date whose unpaid balance "
            f"reaches {ARREARS_MONTHS:g} months of residual rent at a month-end within the "
            "horizon, or which leaves with debt."
        ),
        description_fr=(
            "Un ménage sous le seuil d'impayé à la date d'observation dont la dette atteint "
            f"{ARREARS_MONTHS:g} mois de loyer résiduel à une fin de mois de l'horizon, "
            "ou qui part avec une dette."
        ),
        threshold_months=ARREARS_MONTHS,
    ),
    LabelDefinition(
        name="decree_2027",
        description_en=(
            "The rule in force from January 2027: a household below the threshold at the "
            f"as-of date whose debt exceeds {DECREE_2027_EUR:g} EUR or reaches "
            f"{DECREE_2027_MONTHS:g} months of residual rent at a month-end within the "
            "horizon, or which leaves with debt."
        ),
        description_fr=(
            "La règle en vigueur à partir de janvier 2027 : un ménage sous le seuil à la "
            f"date d'observation dont la dette dépasse {DECREE_2027_EUR:g} EUR ou atteint "
            f"{DECREE_2027_MONTHS:g} mois de loyer résiduel à une fin de mois de l'horizon, "
            "ou qui part avec une dette."
        ),
        threshold_months=DECREE_2027_MONTHS,
        threshold_eur=DECREE_2027_EUR,
    ),
    LabelDefinition(
        name="outcomes",
        description_en=(
            "An outcome (0 or 1) supplied by the team for each tenancy and as-of date; "
            "tenancies absent from the table have no label."
        ),
        description_fr=(
            "Un résultat (0 ou 1) fourni par l'équipe pour chaque bail et date "
            "d'observation ; les baux absents de la table n'ont pas d'étiquette."
        ),
        source="outcomes",
    ),
)
#: The registry of named labels.
LABELS: Mapping[str, LabelDefinition] = MappingProxyType({d.name: d for d in _DEFINITIONS})


def present_tenancies(
    tenancies: pd.DataFrame, as_of: DateLike | Iterable[DateLike]
) -> pd.DataFrame:
    """Return the ``(tenancy_id, as_of)`` pairs of the tenancies present at each date.

    Parameters
    ----------
    tenancies
        Contract tenancies table (``tenancy_id``, ``start_date``, ``end_date``).
    as_of
        One or several as-of dates.

    Returns
    -------
    pandas.DataFrame
        Columns ``tenancy_id`` (str) and ``as_of`` (datetime64), sorted by date then id.
    """
    dates = pd.DataFrame({"as_of": pd.Series(as_of_dates(as_of), dtype="datetime64[ns]")})
    con = duckdb.connect()
    con.register("tenancies_in", tenancies[["tenancy_id", "start_date", "end_date"]])
    con.register("dates_in", dates)
    present = presence_sql("t.start_date::TIMESTAMP", "t.end_date::TIMESTAMP", "d.as_of")
    out = con.sql(f"""
        SELECT t.tenancy_id, d.as_of::TIMESTAMP AS as_of FROM tenancies_in t JOIN
            (SELECT as_of::TIMESTAMP AS as_of FROM dates_in) d ON {present}
        ORDER BY as_of, tenancy_id
    """).df()
    con.close()
    return out.astype({"tenancy_id": "str", "as_of": "datetime64[ns]"})


def observed_until(portfolio: Portfolio) -> pd.Timestamp | None:
    """Return the day after the last day the ledger covers, or None for an empty ledger.

    That is the earlier of the last event date and the last posted date: an export holds
    nothing posted after it was made, and an extract (or the simulator) may stop its
    events before the late postings of the last weeks. Without an explicit
    ``known_until``, labels are observed up to this date: a horizon running past the
    data would otherwise look like months without new debt.
    """
    ledger = portfolio.ledger
    if ledger.empty:
        return None
    last = min(ledger["event_date"].max(), ledger["posted_date"].max())
    return pd.Timestamp(last).normalize() + pd.Timedelta(days=1)


def build_labels(
    portfolio: Portfolio,
    as_of: DateLike | Iterable[DateLike],
    label: str = "first_arrears",
    horizon_months: int = DEFAULT_HORIZON_MONTHS,
    known_until: DateLike | None = None,
    outcomes: pd.DataFrame | None = None,
    *,
    exit_debt_months: float = EXIT_DEBT_MONTHS,
) -> pd.DataFrame:
    """Label every tenancy present at each as-of date.

    Parameters
    ----------
    portfolio
        Validated portfolio.
    as_of
        One or several as-of dates (see :func:`risk.timeline.as_of_dates`).
    label
        Name of a label of :data:`LABELS`.
    horizon_months
        Number of month-ends watched: those of the as-of month and of the following
        ``horizon_months - 1`` months.
    known_until
        Knowledge cut-off: only facts posted strictly before it are read, and labels
        whose horizon ends after it are ``<NA>`` with status ``incomplete``. ``None``
        reads every fact and takes :func:`observed_until` as the end of observation
        (for ``outcomes``, ``None`` marks nothing incomplete).
    outcomes
        Outcomes table (see :func:`read_outcomes`); required by, and only by, the
        ``outcomes`` label.
    exit_debt_months
        A departure within the horizon with at least this many months of residual rent
        unpaid at the exit date counts as arrears.

    Returns
    -------
    pandas.DataFrame
        One row per present tenancy and as-of date: ``tenancy_id`` (str), ``as_of``
        (datetime64), ``label`` (Int8: 1, 0 or ``<NA>``) and ``status`` (one of the
        ``STATUS_*`` constants), sorted by date then tenancy.
    """
    if label not in LABELS:
        raise ValueError(f"unknown label {label!r}; known labels: {', '.join(LABELS)}")
    if type(horizon_months) is not int or horizon_months < 1:
        raise ValueError(f"horizon_months must be a positive whole number, got {horizon_months!r}")
    definition = LABELS[label]
    if (definition.source == "outcomes") != (outcomes is not None):
        raise ValueError("an outcomes table is required by the 'outcomes' label and by it only")
    dates = as_of_dates(as_of)
    cutoff = None if known_until is None else pd.Timestamp(known_until).normalize()
    if outcomes is not None:
        frame = _outcome_statuses(
            portfolio, dates, validate_outcomes(outcomes), horizon_months, cutoff
        )
    else:
        # Without a cut-off every fact is read, but the data still ends somewhere.
        observed = observed_until(portfolio) if cutoff is None else cutoff
        frame = _ledger_statuses(
            portfolio, dates, definition, horizon_months, cutoff, observed, exit_debt_months
        )
    return _finish(frame)


def _horizons(dates: list[pd.Timestamp], horizon_months: int) -> pd.DataFrame:
    """Return each as-of date with its first checked month-end and its horizon end.

    A month-end is represented by the first day of the next month: the balance "at the
    end of January" is the balance of the events dated before 1 February.
    """
    first = [add_months(month_start(d), 1) for d in dates]
    end = [add_months(month_start(d), horizon_months) for d in dates]
    return pd.DataFrame(
        {
            "as_of": pd.Series(dates, dtype="datetime64[ns]"),
            "first_check": pd.Series(first, dtype="datetime64[ns]"),
            "horizon_end": pd.Series(end, dtype="datetime64[ns]"),
        }
    )


def _ledger_statuses(
    portfolio: Portfolio,
    dates: list[pd.Timestamp],
    definition: LabelDefinition,
    horizon_months: int,
    cutoff: pd.Timestamp | None,
    observed: pd.Timestamp | None,
    exit_debt_months: float,
) -> pd.DataFrame:
    """Compute a ledger-based label in DuckDB; return ids, dates and status codes."""
    months = range(1, horizon_months + 1)
    checkpoints = sorted({add_months(month_start(d), k) for d in dates for k in months})
    checks = pd.DataFrame({"d": pd.Series(checkpoints, dtype="datetime64[ns]")})
    # Dates as parameters: the posting cut-off and the end of observation; "none" is a
    # date far away.
    never = dt.datetime(9999, 12, 31)
    posted_before = never if cutoff is None else cutoff.to_pydatetime()
    observed_before = never if observed is None else observed.to_pydatetime()
    debits = ", ".join(f"'{k}'" for k in DEBIT_KINDS)
    credits = ", ".join(f"'{k}'" for k in CREDIT_KINDS)
    residual = residual_rent_sql("t.monthly_rent", "r.apl_amount", "r.apl_to_landlord")
    # Ledger-based labels always carry a threshold in months (only outcomes lack one).
    threshold = definition.threshold_months if definition.threshold_months is not None else 0.0
    in_arrears = behind_sql("s.balance", "s.residual", threshold, definition.threshold_eur)
    with_debt = behind_sql("x.balance", "x.residual", exit_debt_months)
    code = {status: i for i, status in enumerate(STATUSES)}
    status = f"""
        CASE
            WHEN h.as_of > getvariable('observed') THEN {code[STATUS_INCOMPLETE]}
            WHEN {in_arrears} THEN {code[STATUS_IN_ARREARS]}
            WHEN h.horizon_end > getvariable('observed') THEN {code[STATUS_INCOMPLETE]}
            WHEN hit.d <= h.horizon_end THEN {code[STATUS_POSITIVE]}
            WHEN s.end_date < h.horizon_end AND {with_debt} THEN {code[STATUS_DEPARTED_WITH_DEBT]}
            WHEN s.end_date < h.horizon_end THEN {code[STATUS_DEPARTED_WITHOUT_DEBT]}
            ELSE {code[STATUS_NEGATIVE]}
        END::TINYINT"""

    con = duckdb.connect()
    tenancies = portfolio.tenancies[["tenancy_id", "start_date", "end_date", "monthly_rent"]]
    con.register("tenancies_in", tenancies)
    con.register(
        "ledger_in", portfolio.ledger[["tenancy_id", "event_date", "posted_date", "kind", "amount"]]
    )
    con.register(
        "apl_in",
        portfolio.apl[
            ["tenancy_id", "effective_date", "posted_date", "monthly_amount", "paid_to_landlord"]
        ],
    )
    con.register("horizons_in", _horizons(dates, horizon_months))
    con.register("checks_in", checks)
    con.execute("SET VARIABLE cutoff = ?::TIMESTAMP", [posted_before])
    con.execute("SET VARIABLE observed = ?::TIMESTAMP", [observed_before])
    # Tenancies are keyed by their rank ``k`` in id order: integer joins are several
    # times faster than text ones, and ordering by ``k`` is ordering by id.
    con.execute(f"""
        CREATE TEMP TABLE tenancies AS
        SELECT (row_number() OVER (ORDER BY tenancy_id) - 1)::INTEGER AS k, tenancy_id,
               start_date::TIMESTAMP AS start_date, end_date::TIMESTAMP AS end_date,
               monthly_rent
        FROM tenancies_in;
        CREATE TEMP TABLE horizons AS
        SELECT as_of::TIMESTAMP AS as_of, first_check::TIMESTAMP AS first_check,
               horizon_end::TIMESTAMP AS horizon_end
        FROM horizons_in;
        -- Signed amounts known before the cut-off: what the tenant owes goes up.
        CREATE TEMP TABLE facts AS
        SELECT t.k, l.event_date::TIMESTAMP AS event_date,
               date_trunc('month', l.event_date::TIMESTAMP) AS month,
               CASE WHEN l.kind IN ({debits}) THEN l.amount
                    WHEN l.kind IN ({credits}) THEN -l.amount ELSE 0 END AS amount
        FROM ledger_in l JOIN tenancies t USING (tenancy_id)
        WHERE l.posted_date::TIMESTAMP < getvariable('cutoff');
        -- Net amount of each month, keyed by the first day of the next month: it belongs
        -- to the balance at that date (facts dated on a date d come after the state at d).
        CREATE TEMP TABLE month_nets AS
        SELECT k, month + INTERVAL 1 MONTH AS d, SUM(amount) AS amount
        FROM facts GROUP BY k, month;
        CREATE TEMP TABLE apl AS
        SELECT t.k, a.effective_date::TIMESTAMP AS effective_date, a.monthly_amount,
               a.paid_to_landlord
        FROM apl_in a JOIN tenancies t USING (tenancy_id)
        WHERE a.posted_date::TIMESTAMP < getvariable('cutoff');
        -- Dates at which each tenancy's state is needed. First the 1sts of months (the
        -- month-ends watched, the as-of dates falling on a 1st) for every tenancy present
        -- then; next the as-of dates inside a month, for the tenancies present then;
        -- last the day after an exit within a horizon, when the tenancy is gone, so that
        -- no date appears twice for a tenancy.
        CREATE TEMP TABLE points AS
        WITH firsts AS (
            SELECT d, bool_or(is_check) AS is_check FROM (
                SELECT d::TIMESTAMP AS d, true AS is_check FROM checks_in
                UNION ALL
                SELECT as_of, false FROM horizons WHERE as_of = date_trunc('month', as_of)
            ) GROUP BY d
        )
        SELECT t.k, f.d, f.is_check, false AS is_exit FROM tenancies t JOIN firsts f
          ON {presence_sql("t.start_date", "t.end_date", "f.d")}
        UNION ALL
        SELECT t.k, h.as_of, false, false FROM tenancies t JOIN horizons h
          ON {presence_sql("t.start_date", "t.end_date", "h.as_of")}
        WHERE h.as_of > date_trunc('month', h.as_of)
        UNION ALL
        SELECT DISTINCT t.k, t.end_date + INTERVAL 1 DAY, false, true
        FROM tenancies t JOIN horizons h
          ON {presence_sql("t.start_date", "t.end_date", "h.as_of")}
        WHERE t.end_date < h.horizon_end;
        -- A date inside a month adds that month's facts dated before it to the previous
        -- month-end's balance.
        CREATE TEMP TABLE partial AS
        SELECT p.k, p.d, SUM(f.amount) AS amount
        FROM points p JOIN facts f
          ON f.k = p.k AND f.month = date_trunc('month', p.d) AND f.event_date < p.d
        WHERE p.d > date_trunc('month', p.d)
        GROUP BY p.k, p.d;
        -- One pass over each tenancy's history in date order gives, at every point,
        -- the cumulative balance (monthly grain: net amounts keyed on or before the
        -- point) and the APL in force (the last one effective strictly before it: the
        -- balance at a month-end is set against the residual rent of the month that
        -- just ended). At equal dates, amounts come before points, APL changes after.
        CREATE TEMP TABLE state AS
        WITH history AS (
            SELECT k, d, 0 AS rank, amount, NULL::DOUBLE AS apl_amount,
                   NULL::BOOLEAN AS apl_to_landlord,
                   NULL::BOOLEAN AS is_check, NULL::BOOLEAN AS is_exit
            FROM month_nets
            UNION ALL
            SELECT k, d, 1, 0, NULL, NULL, is_check, is_exit FROM points
            UNION ALL
            SELECT k, effective_date, 2, 0, monthly_amount, paid_to_landlord, NULL, NULL
            FROM apl
        ),
        running AS (
            SELECT k, d, rank, is_check, is_exit,
                   SUM(amount) OVER w AS balance,
                   last_value(apl_amount IGNORE NULLS) OVER w AS apl_amount,
                   last_value(apl_to_landlord IGNORE NULLS) OVER w AS apl_to_landlord
            FROM history
            WINDOW w AS (PARTITION BY k ORDER BY d, rank ROWS UNBOUNDED PRECEDING)
        )
        SELECT r.k, r.d, r.is_check, r.is_exit, t.end_date,
               r.balance + COALESCE(x.amount, 0) AS balance,
               {residual} AS residual
        FROM running r
        JOIN tenancies t USING (k)
        LEFT JOIN partial x ON x.k = r.k AND x.d = r.d
        WHERE r.rank = 1;
        CREATE TEMP TABLE hits AS
        SELECT k, d FROM state s WHERE s.is_check AND {in_arrears};
        CREATE TEMP TABLE exits AS
        SELECT k, d, balance, residual FROM state WHERE is_exit;
    """)
    # One row per tenancy present at an as-of date: its state row at that date (an
    # exit row there belongs to a tenancy already gone). Arrow, not .df(): faster.
    rows = con.sql(f"""
        SELECT s.k, s.d AS as_of, {status} AS code
        FROM state s
        JOIN horizons h ON s.d = h.as_of
        LEFT JOIN exits x ON x.k = s.k AND x.d = s.end_date + INTERVAL 1 DAY
        ASOF LEFT JOIN hits hit ON s.k = hit.k AND h.first_check <= hit.d
        WHERE NOT s.is_exit
        ORDER BY s.d, s.k
    """).to_arrow_table()
    ids = con.sql("SELECT tenancy_id FROM tenancies ORDER BY k").to_arrow_table()
    con.close()
    return pd.DataFrame(
        {
            "tenancy_id": ids.column("tenancy_id").take(rows.column("k")).to_pandas(),
            "as_of": rows.column("as_of").to_pandas(),
            "code": rows.column("code").to_numpy(),
        }
    )


def _outcome_statuses(
    portfolio: Portfolio,
    dates: list[pd.Timestamp],
    outcomes: pd.DataFrame,
    horizon_months: int,
    cutoff: pd.Timestamp | None,
) -> pd.DataFrame:
    """Join a validated outcomes table onto the tenancies present at each date."""
    pairs = present_tenancies(portfolio.tenancies, dates)
    frame = pairs.merge(outcomes, on=["tenancy_id", "as_of"], how="left", validate="one_to_one")
    status = frame["label"].map({1: STATUS_POSITIVE, 0: STATUS_NEGATIVE}).fillna(STATUS_NO_OUTCOME)
    if cutoff is not None:
        horizons = _horizons(dates, horizon_months).set_index("as_of")["horizon_end"]
        late = frame["as_of"].map(horizons) > cutoff
        status = status.mask(late, STATUS_INCOMPLETE)
    codes = pd.Categorical(status, categories=list(STATUSES)).codes
    return frame[["tenancy_id", "as_of"]].assign(code=codes)


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn status codes (indices into ``STATUSES``) into the label and status columns.

    The frame is already sorted by date then tenancy.
    """
    codes = frame["code"].to_numpy()
    labels = pd.array([STATUS_LABEL[s] for s in STATUSES], dtype="Int8")
    status = pd.array(list(STATUSES), dtype="str")
    return pd.DataFrame(
        {
            "tenancy_id": frame["tenancy_id"].astype("str").reset_index(drop=True),
            "as_of": frame["as_of"].astype("datetime64[ns]").reset_index(drop=True),
            "label": labels.take(codes),
            "status": status.take(codes),
        }
    )
