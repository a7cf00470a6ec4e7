"""The loopback LMS's set-up as plain data: its site and course, its users, its links, its key pair in PEM.

Every other devplatform module reads these; this one imports nothing of devplatform, so it sits at the
bottom of the package's imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def pem_pair(key: rsa.RSAPrivateKey) -> tuple[str, str]:
    """The private key (PKCS#8) and its public key (SubjectPublicKeyInfo), as lti1p3platform wants them."""
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@dataclass
class DevUser:
    id: str
    name: str
    email: str
    role: str
    given_name: str = ""
    family_name: str = ""


@dataclass
class DevLink:
    id: str
    title: str
    course_id: str
    custom: dict[str, str] = field(default_factory=dict)
    line_item: dict[str, Any] | None = None
    published: bool = True  # Canvas: an assignment Deep Linking created stays unpublished until the teacher publishes


@dataclass
class DevPlatformSetup:
    base_url: str
    tool_base_url: str
    flavour: str = "moodle"  # or "canvas"
    client_id: str = "microcred-demo"
    deployment_id: str = "1"
    issuer: str = ""  # default: base_url; hosted Canvas signs as https://canvas.instructure.com from other hosts
    course_id: str = "DEMO-101"
    course_title: str = "Demo course: Data Analysis Micro-credential"
