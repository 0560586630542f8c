"""Presenting query results: cell conversions (Kusto's text forms) and file writers."""

from kqlhunt.report.values import format_datetime, format_timespan, json_rows, kql_type, text_columns
from kqlhunt.report.writers import FORMATS, SUFFIXES, write_csv, write_jsonl, write_parquet, write_result

__all__ = ["FORMATS", "SUFFIXES", "format_datetime", "format_timespan", "json_rows", "kql_type", "text_columns",
           "write_csv", "write_jsonl", "write_parquet", "write_result"]
