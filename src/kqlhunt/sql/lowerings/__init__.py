"""DuckDB lowerings by family, added to `kqlhunt.sql.functions.LOWERINGS` with its `register` decorator.

`kqlhunt.sql.functions` imports this package once its own lowerings and helpers exist. Aggregates
(`aggregates.py`) register with `kqlhunt.sql.aggregates.register_agg` and are imported by that module.
"""

from kqlhunt.sql.lowerings import conversions, dynamic, mathx, network, series, text, timex

__all__ = ["conversions", "dynamic", "mathx", "network", "series", "text", "timex"]
