"""HTTP routes of the scheduling service under `/api/scheduling`."""

from fastapi import APIRouter

PREFIX = "/api/scheduling"
router = APIRouter(prefix=PREFIX)
