"""Ingest network telemetry (Defender/Sentinel exports, Sysmon 3, Security 5156, Zeek conn.log) into a
DeviceNetworkEvents lake; see docs/ingest.md for the mapping per source."""

from kqlhunt.ingest.inputs import Format
from kqlhunt.ingest.pipeline import run
from kqlhunt.ingest.report import FileReport, RunReport

__all__ = ["FileReport", "Format", "RunReport", "run"]
