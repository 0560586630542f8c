"""Spark rewrites for the timex family (see translate.py for the registry and the order of the pass)."""

from __future__ import annotations
