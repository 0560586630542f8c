"""Spark rewrites for the series family (see translate.py for the registry and the order of the pass)."""

from __future__ import annotations
