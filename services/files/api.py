"""HTTP routes of the files service under `/api/files`."""

from fastapi import APIRouter

PREFIX = "/api/files"
router = APIRouter(prefix=PREFIX)
