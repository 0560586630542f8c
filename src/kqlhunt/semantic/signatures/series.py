"""Signatures of the series functions (see kqlhunt.semantic.functions for the helpers and conventions)."""

from __future__ import annotations
