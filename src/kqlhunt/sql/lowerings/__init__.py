"""DuckDB lowerings by family, added to `kqlhunt.sql.functions.LOWERINGS` with its `register` decorator.

`kqlhunt.sql.functions` imports this package once its own lowerings and helpers exist.
"""

from kqlhunt.sql.lowerings import aggregates, dynamic, mathx, network, series, text, timex

__all__ = ["aggregates", "dynamic", "mathx", "network", "series", "text", "timex"]
