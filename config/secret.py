"""The key that signs sessions, email links and calendar feed links.

DUBAN_SECRET_KEY when set; otherwise a random key made once and kept in the data directory,
readable by its owner only, so that the scheduler (which signs links in emails) and the web app
(which checks them) agree without anyone configuring anything.
"""

from __future__ import annotations

import os
import secrets

from config.settings import Settings


def secret_key(settings: Settings) -> str:
    configured = settings.secret_key.get_secret_value()
    if configured:
        return configured
    path = settings.data_dir / "secret.key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once keep the first key, not one each.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()
