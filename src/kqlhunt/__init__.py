"""kqlhunt: run KQL hunts verbatim on your own telemetry."""
