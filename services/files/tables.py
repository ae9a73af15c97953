"""The one registry of the files database: its models on one metadata, which the migrations and
every schema check use."""

from sqlalchemy import MetaData

from services.files.models import Base

METADATA: MetaData = Base.metadata
