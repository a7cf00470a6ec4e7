"""Every table of the tool, imported in one place so the metadata (and Alembic) sees them all."""

from lti_microcred.competencies import models as competencies_models
from lti_microcred.core import outbox
from lti_microcred.core.db import Base
from lti_microcred.credentials import models as credentials_models
from lti_microcred.lms import models as lms_models
from lti_microcred.lms.moodle import models as moodle_models
from lti_microcred.lti import models as lti_models

metadata = Base.metadata

__all__ = ["Base", "competencies_models", "credentials_models", "lms_models", "lti_models", "metadata", "moodle_models",
           "outbox"]
