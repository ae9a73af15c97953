"""The one registry of the scheduling database: its models on one metadata, which the migrations and
every schema check use."""

from sqlalchemy import MetaData

from services.scheduling.models import Base

METADATA: MetaData = Base.metadata
