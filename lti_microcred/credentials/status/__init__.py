"""Bitstring Status Lists: the list format and its storage (slots, bits, the signed list credential)."""
