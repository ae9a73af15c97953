"""The one registry of the gateway database: the directory's, the webhooks' and notify's
models on one metadata, which the migrations and every schema check use."""

from sqlalchemy import MetaData

from gateway.accounts import models as accounts_models
from gateway.directory import models as directory_models
from gateway.models import Base
from gateway.notify import models as notify_models
from gateway.oauth import models as oauth_models
from gateway.webhooks import models as webhooks_models

# Importing a models module declares its tables on `Base`; naming it here keeps every one in.
MODEL_MODULES = (webhooks_models, notify_models, directory_models, oauth_models, accounts_models)
METADATA: MetaData = Base.metadata
