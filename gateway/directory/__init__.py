"""The directory: organisations, users and API clients, and who may see and manage whom."""

from fastapi import APIRouter

from gateway.directory import api, api_clients

router = APIRouter()
router.include_router(api.router)
router.include_router(api_clients.router)
