"""The public addresses a credential names (itself, its achievement, its verification page), kept in one place."""

from __future__ import annotations

from dataclasses import dataclass

from lti_microcred.credentials.contexts import known_extension_context


@dataclass(frozen=True)
class Urls:
    base_url: str

    def credential(self, public_id: str) -> str:
        return f"{self.base_url.rstrip('/')}/credentials/{public_id}"

    def achievement(self, key: str) -> str:
        return f"{self.base_url.rstrip('/')}/achievements/{key}"

    def badge_image(self, key: str) -> str:
        """The achievement's badge art (PNG): the image credentials name for it."""
        return f"{self.achievement(key)}/badge.png"

    def verify(self, public_id: str) -> str:
        return f"{self.base_url.rstrip('/')}/verify/{public_id}"

    @property
    def extension_context(self) -> str:
        """Our JSON-LD context as this deployment serves it (known to the bundled loader)."""
        return known_extension_context(self.base_url)
