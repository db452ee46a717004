"""Exports numbered spans and log records to Vigil with the official OpenTelemetry Python SDK.

Usage: export_sdk.py --protocol grpc|http --endpoint URL --run-id ID --count N [--token T]
Prints one JSON line with what was sent. Exits non-zero if any export failed.
"""
import argparse
import json
import logging
import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor


class Recording:
    """Wraps an exporter and remembers whether every export succeeded."""

    def __init__(self, inner):
        self.inner = inner
        self.failures = 0

    def export(self, batch):
        result = self.inner.export(batch)
        if getattr(result, "name", str(result)) != "SUCCESS":
            self.failures += 1
        return result

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis=30000):
        return True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--protocol", choices=["grpc", "http"], required=True)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--run-id", required=True)
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--token")
    a = p.parse_args()
    headers = {"authorization": f"Bearer {a.token}"} if a.token else None

    if a.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

        # https:// takes the CA (and a client certificate) from OTEL_EXPORTER_OTLP_CERTIFICATE,
        # OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY, as in production
        insecure = a.endpoint.startswith("http://")
        span_exp = OTLPSpanExporter(endpoint=a.endpoint, insecure=insecure, headers=headers)
        log_exp = OTLPLogExporter(endpoint=a.endpoint, insecure=insecure, headers=headers)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

        span_exp = OTLPSpanExporter(endpoint=a.endpoint.rstrip("/") + "/v1/traces", headers=headers)
        log_exp = OTLPLogExporter(endpoint=a.endpoint.rstrip("/") + "/v1/logs", headers=headers)

    resource = Resource.create({"service.name": "sdk-e2e", "vigil.run_id": a.run_id})
    spans = Recording(span_exp)
    logs = Recording(log_exp)
    tp = TracerProvider(resource=resource)
    tp.add_span_processor(SimpleSpanProcessor(spans))
    tracer = tp.get_tracer("vigil.e2e", "1.0")
    for i in range(a.count):
        with tracer.start_as_current_span(f"span-{i}") as s:
            s.set_attribute("vigil.run_id", a.run_id)
            s.set_attribute("seq", i)
            s.set_attribute("ratio", 0.5)
            s.set_attribute("ok", True)
            s.set_attribute("tags", ["a", "b"])
            s.add_event("checkpoint", {"step": i})

    lp = LoggerProvider(resource=resource)
    lp.add_log_record_processor(SimpleLogRecordProcessor(logs))
    handler = LoggingHandler(level=logging.INFO, logger_provider=lp)
    log = logging.getLogger("vigil.e2e")
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    for i in range(a.count):
        log.info("record %d", i, extra={"vigil.run_id": a.run_id, "seq": i})
    tp.shutdown()
    lp.shutdown()
    print(json.dumps({"spans": a.count, "logs": a.count, "span_failures": spans.failures, "log_failures": logs.failures}))
    if spans.failures or logs.failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
