"""The one registry of the consult database: every domain's models on one metadata, which the
migrations and every schema check use."""

from sqlalchemy import MetaData

from services.consult.appeals import models as appeals_models
from services.consult.cases import models as cases_models
from services.consult.cases.consilium import models as consilium_models
from services.consult.chats import models as chats_models
from services.consult.db import Base
from services.consult.home_visits import models as home_visits_models
from services.consult.knowledge import models as knowledge_models
from services.consult.monitoring import models as monitoring_models
from services.consult.stats import models as stats_models

# Importing a models module declares its tables on `Base`; naming them here keeps every one in.
MODEL_MODULES = (
    cases_models,
    consilium_models,
    appeals_models,
    monitoring_models,
    stats_models,
    knowledge_models,
    home_visits_models,
    chats_models,
)
METADATA: MetaData = Base.metadata
