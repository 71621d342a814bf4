"""The truth table: what the simulator knows and the landlord never sees.

One row per tenancy present and month of the period: the hidden traits (propensity to
miss payments, reachability), the true employment, income and expense shock, the APL in
force and credited, the amounts billed and due, the month-end balance, and the true
probability of missing the month's payment that the simulator drew from. The package's
features never read it; it serves to check models against the truth (how much of the
achievable signal a model recovers) and, later, the oracle.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pandas as pd
import pyarrow as pa

from risk.contract import EMPLOYMENT_STATUSES
from risk.simulation.months import days_to_datetime, first_days
from risk.simulation.records import Recorder, release_memory

#: Truth columns after ``tenancy_id`` and ``month``, with what each holds.
TRUTH_COLUMNS = MappingProxyType(
    {
        "propensity": "Hidden persistent propensity to miss payments (standard normal).",
        "reachability": "Hidden propensity to answer the landlord (standard normal).",
        "employment_status": "True employment status of the main tenant.",
        "income": "True household income of the month, EUR (with wage noise).",
        "shock_cost": "Cost of a running expense shock, EUR (0: none).",
        "apl_in_force": "APL entitlement in force, EUR.",
        "apl_credited": "APL credited to the landlord this month (with back pay), EUR.",
        "apl_suspended": "Whether APL paid to the landlord is suspended.",
        "rent_billed": "Rent billed this month (prorated at entry and exit), EUR.",
        "due": "Tenant's share of this month's rent after APL credited, EUR.",
        "surplus": "Income left after the rent share and living costs, EUR (negative: deficit).",
        "p_miss": "True probability of missing this month's payment.",
        "missed": "Whether the payment was missed (nothing or part paid while owing).",
        "balance": "Month-end balance owed, EUR (negative: in credit).",
        "months_owed": "Month-end balance in months of residual rent (risk.arrears).",
        "support": "Social support running at month-end.",
        "plan": "Payment plan running at month-end.",
        "leaving": "The tenancy ends this month.",
    }
)


def truth_frame(rec: Recorder, ids: pa.Array, origin: int) -> pd.DataFrame:
    """Assemble the truth table from the recorder's per-month arrays.

    Columns are built one at a time, each source released once used. The identifiers
    and the employment status are categorical (integer codes: a large run holds tens
    of millions of rows, and a string per row would cost 16 bytes or more), amounts
    ``float32`` except the balance (``float64``, equal to the ledger's to the cent).

    Parameters
    ----------
    rec
        The recorder holding the truth arrays (``idx`` and ``month`` plus
        :data:`TRUTH_COLUMNS`).
    ids
        Tenancy identifiers, by state index.
    origin
        Month 0 of the grid, in months since 1970-01.
    """
    columns = ["tenancy_id", "month", *TRUTH_COLUMNS]
    tenancy = pd.CategoricalDtype(pd.Index(ids.to_pandas(), dtype="str"))
    status = pd.CategoricalDtype(pd.Index(EMPLOYMENT_STATUSES, dtype="str"))
    if not rec.truth_columns():
        empty = {c: pd.Series(dtype="float64") for c in columns}
        empty["tenancy_id"] = pd.Series(dtype=tenancy)
        empty["month"] = pd.Series(dtype="datetime64[ns]")
        empty["employment_status"] = pd.Series(dtype=status)
        return pd.DataFrame(empty, columns=columns)
    idx = rec.pop_truth("idx")
    # Rows come month after month, each month in tenancy order: a stable sort on the
    # tenancy alone orders by tenancy then month.
    order = np.argsort(idx, kind="stable")
    frame: dict[str, object] = {"tenancy_id": pd.Categorical.from_codes(idx[order], dtype=tenancy)}
    del idx
    frame["month"] = days_to_datetime(first_days(origin + rec.pop_truth("month")[order]))
    for name in TRUTH_COLUMNS:
        values = rec.pop_truth(name)[order]
        if name == "employment_status":
            frame[name] = pd.Categorical.from_codes(values, dtype=status)
        else:
            frame[name] = values
        release_memory()
    return pd.DataFrame(frame, columns=columns, copy=False)
