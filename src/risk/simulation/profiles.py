"""Residence types and profiles: rents, tenant profiles and tenure per type of home.

The five residence types of the contract house different people (``DOMAIN.md``):
foyers de jeunes travailleurs (FJT) young workers under 30; pensions de famille and
résidences accueil older, isolated people on minimum income or a disability benefit;
résidences sociales a mix of workers, job seekers and retired former migrant workers;
ordinary HLM homes (``logement_familial``) families. A *profile* is a mix of these
types: ``residences`` is the ALFI population (social residences, FJT, pensions de
famille, Île-de-France), ``hlm`` an ordinary HLM landlord such as LogemLoiret.

Tuples follow the order of the matching contract code lists
(:data:`~risk.contract.HOUSEHOLD_TYPES`, :data:`~risk.contract.EMPLOYMENT_STATUSES`,
:data:`~risk.contract.GUARANTEES`, :data:`~risk.contract.PAYMENT_METHODS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from risk.contract import (
    EMPLOYMENT_STATUSES,
    GUARANTEES,
    HOUSEHOLD_TYPES,
    PAYMENT_METHODS,
    RESIDENCE_TYPES,
)


@dataclass(frozen=True)
class ResidenceTypeParams:
    """What distinguishes one residence type.

    Parameters
    ----------
    units
        Mean number of homes per residence (the residence size).
    rent
        Mean monthly rent and charges (redevance or quittance) of a one-person home,
        2019 EUR; ``rent_per_person`` is added per further person (ordinary homes are
        larger for larger households).
    rent_sd, residence_rent_sd
        Relative spread of rents between homes and between residences.
    age_entry
        Age at entry: mean, standard deviation, minimum, maximum.
    households
        Shares of each household type.
    children_mean
        Mean number of children of households with children (at least one).
    employment_entry, employment_stock
        Employment mix of new entrants and of tenants already in place (entry requires
        resources, so the stock holds more job seekers than the entrants).
    disability_share
        Share of inactive tenants on the disability benefit (AAH) rather than the RSA.
    employability
        Factor on the monthly chance of (re)entering work (pensions de famille and
        résidences accueil house people far from employment).
    guarantee_young, guarantee_older
        Guarantee mix at entry under 30 and from 30 (VISALE is not open to tenants aged
        30 and over except some cases: ALFI).
    mean_stay_months, max_stay_months
        Mean tenure (sets the monthly departure hazard) and the stay after which the
        hazard triples (FJT contracts are limited to about two years).
    payment_methods
        Payment method mix.
    tiers_payant
        Share of APL recipients whose benefit is paid to the landlord (always in
        practice for APL-foyer; most HLM tenants too).
    apl_eligible
        Share of households that can receive APL at all, whatever their income (homes
        without an APL agreement, residents without a qualifying residence status,
        non-take-up). Tuned with the APL scale on the ALFI entitled shares.
    foyer
        Whether the APL-foyer scale applies (one ceiling for rent and charges, no yearly
        charge regularisation: the redevance is all-inclusive).
    support_base_rate
        Monthly probability that social support starts outside arrears (residences have
        on-site social workers; pensions de famille have hosts).
    support_arrears_factor
        Factor on the chance that support starts once in arrears (an HLM landlord has
        far fewer social workers per home than a residence: LogemLoiret, 8 social
        advisers for 16,000 homes).
    risk_intercept
        Logit intercept of the monthly probability of missing a payment.
    new_tenant_risk
        Logit added during the first months of a tenancy: moving costs, a deposit, new
        contracts, the first APL month never paid. Larger for ordinary HLM homes
        (bigger moves, households leaving private rentals), tuned on LogemLoiret:
        19.5% of tenants entered without guarantee in January-June were in arrears on
        31 August, which is why its early-contact target is new tenants within 6 months.
    """

    units: float
    rent: float
    rent_per_person: float
    rent_sd: float
    residence_rent_sd: float
    age_entry: tuple[float, float, int, int]
    households: tuple[float, ...]
    children_mean: float
    employment_entry: tuple[float, ...]
    employment_stock: tuple[float, ...]
    disability_share: float
    employability: float
    guarantee_young: tuple[float, ...]
    guarantee_older: tuple[float, ...]
    mean_stay_months: float
    max_stay_months: int
    payment_methods: tuple[float, ...]
    tiers_payant: float
    apl_eligible: float
    foyer: bool
    support_base_rate: float
    support_arrears_factor: float
    risk_intercept: float
    new_tenant_risk: float

    def __post_init__(self) -> None:
        for name, codes in (
            ("households", HOUSEHOLD_TYPES),
            ("employment_entry", EMPLOYMENT_STATUSES),
            ("employment_stock", EMPLOYMENT_STATUSES),
            ("guarantee_young", GUARANTEES),
            ("guarantee_older", GUARANTEES),
            ("payment_methods", PAYMENT_METHODS),
        ):
            shares = getattr(self, name)
            if len(shares) != len(codes) or abs(sum(shares) - 1.0) > 1e-6:
                raise ValueError(f"{name} must have {len(codes)} shares summing to 1")


_RESIDENCE_PAYMENTS = (0.25, 0.30, 0.08, 0.20, 0.17)
_HLM_PAYMENTS = (0.45, 0.25, 0.12, 0.08, 0.10)

#: Parameters of each residence type. Rents are Île-de-France orders of magnitude for
#: residences (redevance 400-550 EUR) and an average HLM quittance (~6 EUR/m2 plus
#: charges); employment and household mixes follow the populations the documents
#: describe; tenure: FJT about 20 months, social residences ~3 years, pensions de famille
#: and résidences accueil long stays, HLM turnover ~9% a year.
RESIDENCE_TYPE_PARAMS: Mapping[str, ResidenceTypeParams] = MappingProxyType(
    {
        "residence_sociale": ResidenceTypeParams(
            units=120, rent=470.0, rent_per_person=60.0, rent_sd=0.10, residence_rent_sd=0.08,
            age_entry=(40.0, 13.0, 19, 80),
            households=(0.80, 0.07, 0.09, 0.03, 0.01), children_mean=1.4,
            employment_entry=(0.42, 0.17, 0.10, 0.09, 0.13, 0.03, 0.06),
            employment_stock=(0.38, 0.14, 0.08, 0.12, 0.21, 0.02, 0.05),
            disability_share=0.6, employability=0.9,
            guarantee_young=(0.55, 0.10, 0.08, 0.25, 0.02),
            guarantee_older=(0.05, 0.14, 0.20, 0.59, 0.02),
            mean_stay_months=36, max_stay_months=600,
            payment_methods=_RESIDENCE_PAYMENTS, tiers_payant=0.99, apl_eligible=0.8, foyer=True,
            support_base_rate=0.006, support_arrears_factor=1.0,
            risk_intercept=-3.8, new_tenant_risk=0.6,
        ),
        "fjt": ResidenceTypeParams(
            units=100, rent=520.0, rent_per_person=60.0, rent_sd=0.08, residence_rent_sd=0.07,
            age_entry=(23.0, 2.8, 18, 30),
            households=(0.95, 0.04, 0.01, 0.0, 0.0), children_mean=1.0,
            employment_entry=(0.38, 0.23, 0.11, 0.06, 0.0, 0.22, 0.0),
            employment_stock=(0.40, 0.21, 0.10, 0.10, 0.0, 0.19, 0.0),
            disability_share=0.0, employability=1.1,
            guarantee_young=(0.62, 0.08, 0.05, 0.23, 0.02),
            guarantee_older=(0.15, 0.15, 0.10, 0.58, 0.02),
            mean_stay_months=20, max_stay_months=24,
            payment_methods=_RESIDENCE_PAYMENTS, tiers_payant=0.99, apl_eligible=0.8, foyer=True,
            support_base_rate=0.004, support_arrears_factor=1.0,
            risk_intercept=-3.8, new_tenant_risk=0.6,
        ),
        "pension_de_famille": ResidenceTypeParams(
            units=25, rent=400.0, rent_per_person=50.0, rent_sd=0.08, residence_rent_sd=0.06,
            age_entry=(50.0, 10.0, 28, 80),
            households=(0.97, 0.02, 0.0, 0.0, 0.01), children_mean=1.0,
            employment_entry=(0.04, 0.03, 0.02, 0.12, 0.12, 0.0, 0.67),
            employment_stock=(0.03, 0.02, 0.02, 0.12, 0.18, 0.0, 0.63),
            disability_share=0.75, employability=0.3,
            guarantee_young=(0.30, 0.05, 0.25, 0.39, 0.01),
            guarantee_older=(0.0, 0.03, 0.30, 0.66, 0.01),
            mean_stay_months=72, max_stay_months=600,
            payment_methods=_RESIDENCE_PAYMENTS, tiers_payant=0.99, apl_eligible=0.9, foyer=True,
            support_base_rate=0.03, support_arrears_factor=1.0,
            risk_intercept=-4.0, new_tenant_risk=0.6,
        ),
        "residence_accueil": ResidenceTypeParams(
            units=22, rent=400.0, rent_per_person=50.0, rent_sd=0.08, residence_rent_sd=0.06,
            age_entry=(45.0, 10.0, 25, 75),
            households=(0.98, 0.01, 0.0, 0.0, 0.01), children_mean=1.0,
            employment_entry=(0.03, 0.02, 0.01, 0.06, 0.06, 0.0, 0.82),
            employment_stock=(0.03, 0.02, 0.01, 0.06, 0.08, 0.0, 0.80),
            disability_share=0.85, employability=0.2,
            guarantee_young=(0.30, 0.05, 0.25, 0.39, 0.01),
            guarantee_older=(0.0, 0.03, 0.30, 0.66, 0.01),
            mean_stay_months=72, max_stay_months=600,
            payment_methods=_RESIDENCE_PAYMENTS, tiers_payant=0.99, apl_eligible=0.9, foyer=True,
            support_base_rate=0.04, support_arrears_factor=1.0,
            risk_intercept=-4.0, new_tenant_risk=0.6,
        ),
        "logement_familial": ResidenceTypeParams(
            units=80, rent=390.0, rent_per_person=75.0, rent_sd=0.15, residence_rent_sd=0.10,
            age_entry=(38.0, 12.0, 19, 85),
            households=(0.34, 0.15, 0.22, 0.24, 0.05), children_mean=1.9,
            employment_entry=(0.42, 0.12, 0.06, 0.12, 0.10, 0.02, 0.16),
            employment_stock=(0.40, 0.08, 0.05, 0.12, 0.22, 0.01, 0.12),
            disability_share=0.3, employability=1.0,
            guarantee_young=(0.45, 0.10, 0.08, 0.36, 0.01),
            guarantee_older=(0.02, 0.15, 0.12, 0.70, 0.01),
            mean_stay_months=130, max_stay_months=1200,
            payment_methods=_HLM_PAYMENTS, tiers_payant=0.9, apl_eligible=0.95, foyer=False,
            support_base_rate=0.001, support_arrears_factor=0.3,
            risk_intercept=-3.8, new_tenant_risk=2.1,
        ),
    }
)  # fmt: skip

#: Share of homes of each residence type per profile. ``residences``: ALFI manages
#: social residences (many former migrant-worker hostels), FJT, pensions de famille and
#: résidences accueil, plus some ordinary homes of partner ESH; ``hlm``: an OPH/ESH.
PROFILES: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "residences": MappingProxyType(
            {
                "residence_sociale": 0.50,
                "fjt": 0.30,
                "pension_de_famille": 0.12,
                "residence_accueil": 0.05,
                "logement_familial": 0.03,
            }
        ),
        "hlm": MappingProxyType({"logement_familial": 1.0}),
    }
)

assert set(RESIDENCE_TYPE_PARAMS) == set(RESIDENCE_TYPES)
