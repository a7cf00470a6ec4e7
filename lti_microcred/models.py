"""Every table of the tool, imported in one place so the metadata (and Alembic) sees them all."""

from . import outbox
from .competencies import models as competencies_models
from .credentials import models as credentials_models
from .db import Base
from .lms import models as lms_models
from .lti import models as lti_models

metadata = Base.metadata

__all__ = ["Base", "competencies_models", "credentials_models", "lms_models", "lti_models", "metadata", "outbox"]
