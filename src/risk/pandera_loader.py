"""pandera, loaded without ``pyspark.pandas``.

pandera imports ``pyspark.pandas`` whenever pyspark is installed (as with ``risk[spark]``),
only so that pandas-on-Spark type hints work with pandera's typing module. That import
costs a third of a second in every process, patches pandas' classes, and prints a
FutureWarning (pyspark does not support pandas 3 yet) before every command's output.
risk uses neither pandas-on-Spark nor pandera's typing (its Spark code is plain
``pyspark.sql``), so the import is refused while pandera loads: pandera catches the
ImportError, as it does when pyspark is absent.
"""

from __future__ import annotations

import sys

_REFUSED = "pyspark.pandas"

if _REFUSED in sys.modules:  # already loaded by the caller: nothing to spare
    import pandera.pandas as pandera
    from pandera.errors import SchemaErrors
else:
    sys.modules[_REFUSED] = None  # type: ignore[assignment]  # makes the import fail
    try:
        import pandera.pandas as pandera
        from pandera.errors import SchemaErrors
    finally:
        del sys.modules[_REFUSED]

__all__ = ["SchemaErrors", "pandera"]
