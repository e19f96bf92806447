"""Time-based one-time passwords (RFC 6238) for the staff second factor, and their QR codes.

Pure functions of a secret and a time: no database, no Flask. The service decides what
a matching step means (replay, enrolment, lock-out).
"""

from __future__ import annotations

import hmac
import io
from datetime import datetime

import pyotp
import segno

# One step either side of the current one: phones drift, people type slowly.
VALID_WINDOW = 1
CODE_DIGITS = 6


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """The otpauth:// URI that authenticator apps read from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def is_well_formed(code: str) -> bool:
    return len(code) == CODE_DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code equals ``code`` (within the window), or None."""
    if not is_well_formed(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    found: int | None = None
    # Compare every candidate so the time taken does not depend on which one matched.
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def code_at(secret: str, now: datetime) -> str:
    return pyotp.TOTP(secret).at(now)


def qr_svg(uri: str) -> str:
    """An inline <svg> element of the URI's QR code (no XML declaration)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, border=2))


def qr_terminal(uri: str) -> str:
    """The URI's QR code drawn with block characters, for a terminal."""
    out = io.StringIO()
    segno.make(uri, error="m").terminal(out=out, compact=True, border=2)
    return out.getvalue()
