"""Libraries' loggers kept quiet: some log personal data (pypdf quotes a file's bytes,
Pillow prints EXIF values, pyHanko object paths), some only noise (fontTools)."""

from __future__ import annotations

import logging


def quiet(*names: str, level: int) -> None:
    """Raise these loggers to `level`, unless the application has set their level itself."""
    for name in names:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(level)
