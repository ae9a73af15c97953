"""The directory: organisations, users and API clients, and who may see and manage whom."""

from fastapi import APIRouter

from gateway.directory import api, api_clients, patients_api, serving_api, users_api

router = APIRouter()
router.include_router(api.router)
router.include_router(users_api.router)
router.include_router(api_clients.router)
router.include_router(serving_api.router)
router.include_router(patients_api.router)
