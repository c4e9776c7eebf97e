"""The audit trail: one JSON Lines file of events per run, plus an atomic summary."""

from om_ingest.audit.log import AuditLog, RunSummary, read_events

__all__ = ["AuditLog", "RunSummary", "read_events"]
