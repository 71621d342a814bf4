"""risk: early warning of rent arrears for French social landlords.

The score supports a caseworker's decision and never decides anything by itself.
"""

__version__ = "0.1.0"
