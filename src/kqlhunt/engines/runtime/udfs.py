"""The Python UDFs compiled queries may call (`kh_*`), declared per family and registered on demand.

A family module under `kqlhunt.engines.runtime` lists its UDFs in a module-level `UDFS` sequence of `Udf`
specs and keeps heavy imports (numpy, data files) inside the functions, so collecting the specs is cheap.
The engine registers a UDF on a connection the first time a query's SQL names it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from kqlhunt.diagnostics import runtime_refusal

# the family modules that declare UDFs (each has a module-level UDFS)
FAMILIES = ("geoip", "series", "text", "dynamic", "mathx", "timex", "network", "aggregates", "json_text")


class UnknownAnswer(ValueError):
    """Raised by a UDF for a row whose Kusto answer is not known: the query stops with KH301, never a guess."""

    def __init__(self, what: str) -> None:
        super().__init__(runtime_refusal(what))


@dataclass(frozen=True, slots=True)
class Udf:
    """One vectorised UDF: `func` takes pyarrow arrays (one per parameter) and returns a pyarrow array.

    `params` and `returns` are DuckDB type strings (`VARCHAR`, `DOUBLE[]`, `JSON`, ...). Nulls reach the
    function (null_handling="special"), so it decides what a null input gives, as Kusto does.
    """

    name: str
    func: Callable[..., Any]
    params: tuple[str, ...]
    returns: str
    needs_options: bool = False  # func(options, *arrays): engine options such as the geo database path


@cache
def all_udfs() -> dict[str, Udf]:
    out: dict[str, Udf] = {}
    for family in FAMILIES:
        try:
            module = importlib.import_module(f"kqlhunt.engines.runtime.{family}")
        except ModuleNotFoundError as exc:
            if exc.name == f"kqlhunt.engines.runtime.{family}":
                continue  # a family not written yet
            raise
        for spec in getattr(module, "UDFS", ()):
            assert spec.name not in out, f"UDF {spec.name} declared twice"
            out[spec.name] = spec
    return out


__all__ = ["Udf", "UnknownAnswer", "all_udfs", "FAMILIES"]
