"""The one registry of the video database: its models on one metadata, which the migrations and
every schema check use."""

from sqlalchemy import MetaData

import services.video.wards.models  # noqa: F401  (registers the wards' tables on the metadata)
from services.video.models import Base

METADATA: MetaData = Base.metadata
