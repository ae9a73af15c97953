"""The one registry of the web database: its models on one metadata, which the migrations and
every schema check use."""

from sqlalchemy import MetaData

from web.cases import models as cases_models
from web.models import Base

# Importing a models module declares its tables on `Base`; naming it here keeps every one in.
MODEL_MODULES = (cases_models,)
METADATA: MetaData = Base.metadata
