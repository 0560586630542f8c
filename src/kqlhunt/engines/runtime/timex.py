"""Python UDFs of the timex family: `todatetime()` and `totimespan()` of text known only at run time.

Both use the literal parsers of `kqlhunt.syntax.literals`, so `todatetime(s)` and `datetime(s)` agree on
every text (corpus todatetime-function-01). Text in no known form is null, as Kusto's conversions give;
text in a known form whose Kusto value is not known exactly (`TextRefused`) fails the query (KH301)
rather than answering differently. Datetimes come back floored to the microsecond, kqlhunt's storage
precision. Repeated values are parsed once (log fields repeat a handful of formats and values).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import pyarrow as pa

from kqlhunt.engines.runtime.udfs import Udf
from kqlhunt.syntax.literals import TextRefused, floor_micro, parse_datetime_text, parse_timespan_text


class Inexact(ValueError):
    """Kusto's value for this text is not known exactly: the query fails instead of guessing."""


@lru_cache(maxsize=4096)
def _datetime(text: str) -> datetime | None:
    try:
        return floor_micro(parse_datetime_text(text, literal=False))
    except TextRefused as exc:
        raise Inexact(f"kqlhunt: todatetime({text!r}) is not supported ({exc})") from None
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _timespan(text: str) -> int | None:
    try:
        return parse_timespan_text(text, literal=False)
    except TextRefused as exc:
        raise Inexact(f"kqlhunt: totimespan({text!r}) is not supported ({exc})") from None
    except ValueError:
        return None


def todatetime_arrow(texts: pa.Array) -> pa.Array:
    return pa.array([None if t is None else _datetime(t) for t in texts.to_pylist()], pa.timestamp("us"))


def totimespan_arrow(texts: pa.Array) -> pa.Array:
    return pa.array([None if t is None else _timespan(t) for t in texts.to_pylist()], pa.int64())


UDFS = (
    Udf("kh_todatetime", todatetime_arrow, ("VARCHAR",), "TIMESTAMP"),
    Udf("kh_totimespan", totimespan_arrow, ("VARCHAR",), "BIGINT"),
)
