"""The accessibility statement of the back-office, with the feedback address."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import auth
from ..pages import render

router = APIRouter()


@router.get("/accessibilita")
async def accessibility(request: Request) -> Response:
    return render(
        request, "accessibilita.html", {"nav": "accessibilita"}, session=auth.session_of(request)
    )
