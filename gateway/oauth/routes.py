"""Sign-in's routes and the state they share on the app: the cookie signer, the ID-token
signer and the federated provider."""

from fastapi import APIRouter, FastAPI

from gateway.oauth import api, clients_api, federation, logout, openid, tokens_api
from gateway.oauth.browser import CookieSigner
from gateway.oauth.federation import Provider
from gateway.oauth.idtokens import IdTokenSigner, load_or_create_rsa_key
from gateway.oauth.service import issuer
from gateway.settings import GatewaySettings

router = APIRouter()
for part in (
    api.router,
    logout.router,
    openid.router,
    clients_api.router,
    tokens_api.router,
    federation.router,
):
    router.include_router(part)


def install(app: FastAPI, settings: GatewaySettings) -> None:
    app.state.cookie_signer = CookieSigner(settings)
    app.state.id_token_signer = IdTokenSigner(
        load_or_create_rsa_key(
            settings.id_token_key_path or settings.var_dir / "gateway" / "id_token_rsa_key.pem"
        ),
        issuer=issuer(settings),
        lifetime_seconds=settings.access_token_seconds,
    )
    app.state.federation = Provider(settings)
