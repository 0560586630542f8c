"""kqlhunt: run KQL threat hunts verbatim on your own telemetry.

    import kqlhunt
    table = kqlhunt.query("DeviceNetworkEvents | take 10", lake="demo-lake")
"""

from kqlhunt.api import CompiledQuery, compile, query
from kqlhunt.diagnostics import Diagnostic, KqlError

__all__ = ["query", "compile", "CompiledQuery", "KqlError", "Diagnostic"]
__version__ = "0.1.0"
