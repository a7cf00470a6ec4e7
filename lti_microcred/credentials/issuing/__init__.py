"""Issuing: the issuer's identity and keys, signing an award's credential, revocation, records."""
