"""LTI Advantage services, server side: AGS (line items, scores, results) and NRPS (rosters) over one HTTP
client with cached tokens, and the durable delivery of gradebook changes from the outbox.

Depends on `lti` (registry, keys, models), `competencies` (read-back evidence, module results) and the
outbox; nothing imports it back except `web` and the process assembly (app factory, `microcred worker`).
"""
