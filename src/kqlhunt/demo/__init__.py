"""Deterministic demo telemetry (DeviceNetworkEvents) with planted activity for the seed hunts."""

from kqlhunt.demo.generator import DEFAULT_NOW, GenerationSummary, generate_lake, generate_table
from kqlhunt.demo.plants import PLANTED, PlantedItem, SeedPlan
from kqlhunt.demo.schema import SCHEMA, TABLE

__all__ = ["DEFAULT_NOW", "PLANTED", "SCHEMA", "TABLE", "GenerationSummary", "PlantedItem", "SeedPlan",
           "generate_lake", "generate_table"]
