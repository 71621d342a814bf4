"""Support-history features: social support, payment plans, aid, contacts.

The support table is optional; without it every flag is 0 and every count 0 (no
follow-up known), never NaN. Only rows posted and started before as-of count. A running
follow-up is one whose end date is empty or on/after as-of; the end date is trusted as
recorded, since the contract keeps no separate posting date for it.
"""

from __future__ import annotations

from risk.features.point_in_time import AsOf, happened_within, posted_before, running_at

#: Look-back of the aid and social-watch flags.
HISTORY_MONTHS = 12
#: Look-back of unanswered contact attempts (LogemLoiret starts legal action when
#: contact fails within a month of the alert, so recent silence matters).
CONTACT_MONTHS = 6


#: Bit of each follow-up flag in the ``flags`` aggregate, with the rule that sets it.
_FLAGS = {
    "social_support": ("social_support", "running"),
    "payment_plan": ("payment_plan", "running"),
    "solidarity_aid": ("solidarity_fund_aid", "recent"),
    "social_watch": ("social_watch_referral", "recent"),
}


def ctes(as_of: AsOf) -> list[tuple[str, str]]:
    """Return the CTEs summarising each tenancy's known follow-up.

    Every tenancy with follow-up rows is summarised; the final join keeps the present
    ones (cheaper than joining the whole table to them first).

    Returns
    -------
    list of (name, sql)
        ``support_features``: one row per tenancy with known follow-up rows.
    """
    known = f"{posted_before('s', as_of)} AND s.start_date < {as_of.sql}"
    rules = {
        "running": running_at("s", as_of),
        "recent": happened_within("s", as_of, HISTORY_MONTHS),
    }
    # The four flags share one bit_or: one aggregate instead of four over the table.
    bits = " + ".join(
        f"CASE WHEN s.kind = '{kind}' AND {rules[rule]} THEN {1 << i} ELSE 0 END"
        for i, (kind, rule) in enumerate(_FLAGS.values())
    )
    support_last_contact = f"""
        SELECT s.tenancy_id, bit_or({bits}) AS flags,
               max(CASE WHEN s.kind = 'contact_made' THEN s.start_date END) AS last_contact
        FROM support s
        WHERE {known}
        GROUP BY s.tenancy_id"""
    # An attempt on the day contact was made is the successful one, hence ">".
    support_features = f"""
        SELECT c.*,
               (SELECT count(*) FROM support s
                WHERE s.tenancy_id = c.tenancy_id AND s.kind = 'contact_attempt'
                  AND {happened_within('s', as_of, CONTACT_MONTHS)}
                  AND (c.last_contact IS NULL OR s.start_date > c.last_contact)) AS failed_contacts
        FROM support_last_contact c"""
    return [("support_last_contact", support_last_contact), ("support_features", support_features)]


def columns(features: str) -> dict[str, str]:
    """Return SQL expressions of the support features.

    Parameters
    ----------
    features
        Alias of ``support_features`` (NULL columns when nothing is known).
    """
    flags = f"COALESCE({features}.flags, 0)"
    bit = {name: 1 << i for i, name in enumerate(_FLAGS)}
    return {
        "social_support_active": f"({flags} & {bit['social_support']}) <> 0",
        "payment_plan_active": f"({flags} & {bit['payment_plan']}) <> 0",
        "solidarity_aid_12m": f"({flags} & {bit['solidarity_aid']}) <> 0",
        "social_watch_referral_12m": f"({flags} & {bit['social_watch']}) <> 0",
        "failed_contacts_6m": f"COALESCE({features}.failed_contacts, 0)",
    }
