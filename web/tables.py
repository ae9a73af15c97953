"""The one registry of the web database: its models on one metadata, which the migrations and
every schema check use."""

from sqlalchemy import MetaData

from web.models import Base

METADATA: MetaData = Base.metadata
