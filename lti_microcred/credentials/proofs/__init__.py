"""Proofs and what they rest on: RDFC-1.0 canonicalization, Data Integrity, VC-JWT, key encodings."""
