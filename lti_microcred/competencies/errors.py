"""Refusals of the domain, each with a message meant for the person who asked."""


class DomainError(Exception):
    """A request the domain rules refuse."""
