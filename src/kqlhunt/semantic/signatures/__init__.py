"""Function signatures by family, added to the one function table (`kqlhunt.semantic.functions.REGISTRY`).

Each module registers its entries with `scalar` / `aggregate` / `window` from `kqlhunt.semantic.functions`
when imported; that module imports this package once its own entries and helpers exist.
"""

from kqlhunt.semantic.signatures import aggregates, conversions, dynamic, mathx, network, series, text, timex

__all__ = ["aggregates", "conversions", "dynamic", "mathx", "network", "series", "text", "timex"]
