"""Hunting rules: the built-in seed hunts and a loader for YAML and `.kql` rule files."""

from kqlhunt.rules.loader import builtin_rules, load_rule_file, load_rules, parse_kql_rule, parse_yaml_rule
from kqlhunt.rules.model import Rule, RuleError, Source, Technique

__all__ = ["Rule", "RuleError", "Source", "Technique", "builtin_rules", "load_rule_file", "load_rules",
           "parse_kql_rule", "parse_yaml_rule"]
