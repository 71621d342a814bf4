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
from risk.simulation.records import Recorder, strings

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

    Columns are built one at a time, each source released once used.

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
    if not rec.truth_columns():
        return pd.DataFrame(
            {
                c: pd.Series(dtype="str" if c in ("tenancy_id", "employment_status") else "float64")
                for c in columns
            }
        ).astype({"month": "datetime64[ns]"})
    idx = rec.pop_truth("idx")
    month = rec.pop_truth("month")
    order = np.lexsort((month, idx))
    frame: dict[str, object] = {"tenancy_id": strings(idx[order], ids)}
    del idx
    frame["month"] = days_to_datetime(first_days(origin + month[order].astype(np.int64)))
    del month
    for name in TRUTH_COLUMNS:
        values = rec.pop_truth(name)[order]
        frame[name] = (
            strings(values, EMPLOYMENT_STATUSES) if name == "employment_status" else values
        )
    return pd.DataFrame(frame, columns=columns, copy=False)
