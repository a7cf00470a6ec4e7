"""Open Badges 3.0 / CLR 2.0 credentials: build, sign, bake, check status and verify.

The proof, status, baking and verification modules are library code (no Flask, no database); issuance,
issuer, status_store, records and jobs keep credentials and keys in the database.
"""
