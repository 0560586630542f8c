"""The Spark SQL target: the DuckDB-flavoured tree of a compiled query rewritten for Spark (translate.py),
with per-family rewrites in the sibling modules."""
