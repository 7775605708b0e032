"""Misura B2 rules: notices as data, and the engine that reads them. No I/O, no clock."""

from .catalogue import Catalogue, CatalogueError, load_catalogue, normalise
from .engine import check
from .facts import FACTS, Facts, FactsError, validate

__all__ = [
    "FACTS",
    "Catalogue",
    "CatalogueError",
    "Facts",
    "FactsError",
    "check",
    "load_catalogue",
    "normalise",
    "validate",
]
