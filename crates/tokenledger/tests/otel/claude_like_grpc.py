"""Exports Claude-Code-shaped telemetry to a tokenledger collector over OTLP
gRPC, gzip-compressed, with the real OpenTelemetry Python SDK
(opentelemetry-exporter-otlp-proto-grpc).

Usage: claude_like_grpc.py HOST:PORT TOKEN AGENT. Sends one session as
delta metrics and one as `claude_code.api_request` log events, both as
agent AGENT (`tokenledger.agent_id`), with `authorization: Bearer TOKEN`.
Prints, as JSON, the totals it sent and every export's result (SUCCESS or
FAILURE: the exporter's verdict on the gRPC status it got back).
"""

import json
import sys
import time

from grpc import Compression
from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

endpoint, token, agent = sys.argv[1:4]
grpc_options = {
    "endpoint": endpoint,
    "insecure": True,
    "headers": (("authorization", f"Bearer {token}"),),
    "compression": Compression.Gzip,
    "timeout": 10,
}
exports = []


class Metrics(OTLPMetricExporter):
    def export(self, *args, **kwargs):
        result = super().export(*args, **kwargs)
        exports.append(result.name)
        return result


class Logs(OTLPLogExporter):
    def export(self, *args, **kwargs):
        result = super().export(*args, **kwargs)
        exports.append(result.name)
        return result


resource = Resource.create(
    {"service.name": "claude-code", "service.version": "2.1.0", "tokenledger.agent_id": agent}
)
MODEL = "claude-sonnet-4-5"

reader = PeriodicExportingMetricReader(
    Metrics(**grpc_options, preferred_temporality={Counter: AggregationTemporality.DELTA}),
    export_interval_millis=3_600_000,  # exported by force_flush below
)
meters = MeterProvider(resource=resource, metric_readers=[reader])
meter = meters.get_meter("com.anthropic.claude_code")
tokens = meter.create_counter("claude_code.token.usage", unit="tokens")
cost = meter.create_counter("claude_code.cost.usage", unit="USD")

logs = LoggerProvider(resource=resource)
logs.add_log_record_processor(SimpleLogRecordProcessor(Logs(**grpc_options)))
logger = logs.get_logger("com.anthropic.claude_code")

sent = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0, "cost": 0.0}


def request(session, n, as_event):
    usage = {"input": 10 + n, "output": 100 + n, "cacheRead": 1000 + n, "cacheCreation": 50 + n}
    usd = round(0.001 * (n + 1), 6)
    attrs = {"session.id": session, "model": MODEL, "query_source": "main"}
    if as_event:
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
    else:
        for kind, value in usage.items():
            tokens.add(value, {**attrs, "type": kind})
        cost.add(usd, attrs)
    sent["input"] += usage["input"]
    sent["output"] += usage["output"]
    sent["cache_read"] += usage["cacheRead"]
    sent["cache_write"] += usage["cacheCreation"]
    sent["cost"] += usd


for n in range(3):
    request(f"{agent}-metrics", n, as_event=False)
for n in range(2):
    request(f"{agent}-events", n, as_event=True)

meters.force_flush()
logs.force_flush()
meters.shutdown()
logs.shutdown()
sent["cost"] = round(sent["cost"], 6)
sent["exports"] = exports
print(json.dumps(sent))
