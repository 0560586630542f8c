"""DuckDB lowerings of the mathx functions (see kqlhunt.sql.functions for the helpers and conventions)."""

from __future__ import annotations
