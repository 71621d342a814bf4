"""risk: early warning of rent arrears for French social landlords.

The score supports a caseworker's decision and never decides anything by itself.

The public API follows the stages of the command line::

    report = risk.validate_directory(folder, mapping=None)
    portfolio = risk.read_portfolio(folder, mapping=None)
    features = risk.build_features(portfolio, as_of=[...])
    labels = risk.build_labels(portfolio, as_of=[...], label="first_arrears")
    simulation = risk.simulate(n_tenancies=5_000, seed=0)
"""

from risk.catalogue import CATALOGUE_VERSION, FEATURES, LEVERS
from risk.features import build_features
from risk.ingestion import ContractViolation, read_portfolio
from risk.labels import build_labels
from risk.outcomes import read_outcomes
from risk.portfolio import Portfolio
from risk.simulation import Simulation, SimulationConfig, simulate
from risk.validation import ValidationReport, validate_directory

__version__ = "0.1.0"

__all__ = [
    "CATALOGUE_VERSION",
    "FEATURES",
    "LEVERS",
    "ContractViolation",
    "Portfolio",
    "Simulation",
    "SimulationConfig",
    "ValidationReport",
    "__version__",
    "build_features",
    "build_labels",
    "read_outcomes",
    "read_portfolio",
    "simulate",
    "validate_directory",
]
