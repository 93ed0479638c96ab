"""Field types that more than one input schema shares (plan files, API bodies, page forms).

config imports nothing else of ours, so the web's schemas take these from here.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

# What a person wrote: trimmed, not empty, and of a length that fits a page.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
