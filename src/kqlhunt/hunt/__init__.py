"""Hunting: run many rules over the same telemetry and summarise what each found."""

from kqlhunt.hunt.runner import (
    RuleResult,
    run_rule,
    run_rules,
    summary,
    write_summary,
)

__all__ = ["RuleResult", "run_rule", "run_rules", "summary", "write_summary"]
