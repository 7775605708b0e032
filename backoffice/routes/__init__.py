"""The back-office's routes, one module per resource (as in FastAPI's full-stack
template); the dependencies they share are in `backoffice/deps.py`."""

from __future__ import annotations

from fastapi import APIRouter

from . import (
    audit,
    dossier,
    dossiers,
    info,
    integrations,
    notices,
    outcomes,
    protocol,
    ranking,
    session,
    team,
)


def backoffice_router() -> APIRouter:
    router = APIRouter()
    for module in (
        session,
        dossiers,
        protocol,
        dossier,
        integrations,
        outcomes,
        team,
        ranking,
        notices,
        audit,
        info,
    ):
        router.include_router(module.router)
    return router
