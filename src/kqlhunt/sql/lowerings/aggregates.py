"""DuckDB lowerings of aggregate functions beyond the core ones, registered with
`kqlhunt.sql.aggregates.register_agg` (that module imports this one at its end)."""

from __future__ import annotations
