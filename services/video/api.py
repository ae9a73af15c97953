"""HTTP routes of the video service under `/api/video`."""

from fastapi import APIRouter

PREFIX = "/api/video"
router = APIRouter(prefix=PREFIX)
