"""Exports Claude-Code-shaped telemetry to a tokenledger collector with the
real OpenTelemetry Python SDK (opentelemetry-exporter-otlp-proto-http).

Usage: claude_like.py ENDPOINT [TOKEN]. Prints, as JSON, the totals it sent
and which the collector must report: every session is sent either as
metrics only, as log events only, or as both (where the events count).
"""

import json
import sys
import time

from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

endpoint = sys.argv[1].rstrip("/")
headers = {"Authorization": f"Bearer {sys.argv[2]}"} if len(sys.argv) > 2 else None
resource = Resource.create({"service.name": "claude-code", "service.version": "2.1.0"})
MODEL = "claude-sonnet-4-5"

reader = PeriodicExportingMetricReader(
    OTLPMetricExporter(
        endpoint=f"{endpoint}/v1/metrics",
        headers=headers,
        preferred_temporality={Counter: AggregationTemporality.DELTA},
    ),
    export_interval_millis=3_600_000,  # exported by force_flush below
)
meters = MeterProvider(resource=resource, metric_readers=[reader])
meter = meters.get_meter("com.anthropic.claude_code")
tokens = meter.create_counter("claude_code.token.usage", unit="tokens")
cost = meter.create_counter("claude_code.cost.usage", unit="USD")

logs = LoggerProvider(resource=resource)
logs.add_log_record_processor(
    SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{endpoint}/v1/logs", headers=headers))
)
logger = logs.get_logger("com.anthropic.claude_code")

expected = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0, "cost": 0.0, "events": 0}


def request(session, n, metrics, events, count):
    """One API request of `session`, reported the ways Claude Code does."""
    usage = {"input": 10 + n, "output": 100 + n, "cacheRead": 1000 + n, "cacheCreation": 50 + n}
    usd = round(0.001 * (n + 1), 6)
    attrs = {"session.id": session, "model": MODEL, "query_source": "main"}
    if metrics:
        for kind, value in usage.items():
            tokens.add(value, {**attrs, "type": kind})
        cost.add(usd, attrs)
    if events:
        logger.emit(
            LogRecord(
                timestamp=time.time_ns(),
                body="claude_code.api_request",
                event_name="claude_code.api_request",
                attributes={
                    **attrs,
                    "event.name": "api_request",
                    "input_tokens": usage["input"],
                    "output_tokens": usage["output"],
                    "cache_read_tokens": usage["cacheRead"],
                    "cache_creation_tokens": usage["cacheCreation"],
                    "cost_usd": usd,
                    "request_id": f"req_{session}_{n}",
                    "duration_ms": 1200,
                },
            )
        )
    if count:
        expected["input"] += usage["input"]
        expected["output"] += usage["output"]
        expected["cache_read"] += usage["cacheRead"]
        expected["cache_write"] += usage["cacheCreation"]
        expected["cost"] += usd


for n in range(5):
    request("metrics-only", n, metrics=True, events=False, count=True)
for n in range(4):
    request("events-only", n, metrics=False, events=True, count=True)
    expected["events"] += 1
for n in range(3):
    # Both exporters describe these requests: only the events may count.
    request("both", n, metrics=True, events=True, count=True)
    expected["events"] += 1

ok = meters.force_flush() and logs.force_flush()
meters.shutdown()
logs.shutdown()
expected["cost"] = round(expected["cost"], 6)
print(json.dumps(expected))
sys.exit(0 if ok else 1)
