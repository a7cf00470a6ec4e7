"""Exceptions of the credentials package, each with a message a person can act on."""

from __future__ import annotations


class CredentialError(Exception):
    """A credential could not be built, signed, read or verified."""


class UnknownContextError(CredentialError):
    """A JSON-LD context is not bundled with us; we never fetch one from the network."""


class InputTooLargeError(CredentialError):
    """The document is bigger or deeper than we agree to canonicalize."""


class CanonicalizationTimeout(CredentialError):
    """Canonicalization ran past its time or work budget (a hostile or pathological document)."""


class UndefinedTermError(CredentialError):
    """JSON-LD processing would silently lose part of the document, so a signature would not cover it."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("Refusing to sign: " + "; ".join(problems))
        self.problems = problems


class ProofError(CredentialError):
    """A proof is malformed, or cannot be made with the given key."""


class KeyResolutionError(CredentialError):
    """A verification method could not be found or is not authorised for its purpose."""


class VcJwtError(CredentialError):
    """A VC-JWT is malformed or its claims disagree with the credential it carries."""


class StatusListError(CredentialError):
    """A status list or status entry is malformed or out of range."""


class BakingError(CredentialError):
    """An image could not carry, or does not carry, a credential."""
