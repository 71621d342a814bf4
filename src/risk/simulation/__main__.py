"""``python -m risk.simulation``: simulate a portfolio and print its calibration table.

Same options as ``python -m risk.simulation.calibration`` (``--profile``, ``--tenancies``,
``--seed``, ``--start``, ``--end``); exits 1 when a figure of the profile is missed.
"""

from risk.simulation.calibration import main

raise SystemExit(main())
