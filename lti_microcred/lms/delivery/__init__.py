"""Durable delivery of outbox rows: claim (leases, SKIP LOCKED), deliver in order per ordering key with
coalescing, retry with back-off, record what the LMS has."""
