"""Wake the background worker now instead of at its next interval.

Use cases call :func:`nudge` after a commit that makes work due (a payment, 登簿, a
notice to resend); the worker in the same process waits on :data:`WAKE`.
"""

from __future__ import annotations

import threading

WAKE = threading.Event()


def nudge() -> None:
    """Ask the worker for a pass now (after a payment or 登簿: the certificate is due)."""
    WAKE.set()
