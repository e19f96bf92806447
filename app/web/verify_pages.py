"""The public page a certificate's QR code opens: valid or revoked, the masked owner and
the issue date, nothing more. A QR whose signed payload does not verify, or names no
issued certificate, gets the same neutral answer.

The page is the busiest of the platform (every scan of every certificate), so it does no
database work on the usual path: the payload's signature check is remembered per exact
payload, the certificate comes from the status cache (a revocation shows at once in this
process, within ``CERT_STATUS_CACHE_TTL`` in others), the look is queued for the access
log's batch writer, and the rendered page is kept per certificate state (a changed
certificate is a different state, rendered afresh)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from app.certificates import viewing
from app.certificates.signing import PayloadInvalid
from app.certificates.status_cache import CertificateFacts
from app.extensions import limiter
from app.kernel.errors import NotFound

bp = Blueprint("verify", __name__)

PAGES = "certificate_verify_pages"
MAX_PAGES = 4096
NEUTRAL_MESSAGE = "二维码无效或证书不存在，请核对证书原件或联系登记机构。"


def _page(found: CertificateFacts) -> str:
    """The rendered page of this certificate state, kept per app (bounded)."""
    pages: dict[CertificateFacts, str] = current_app.extensions.setdefault(PAGES, {})
    html = pages.get(found)
    if html is None:
        html = render_template("public/verify.html", facts=viewing.public_view(found))
        if len(pages) >= MAX_PAGES:
            pages.clear()
        pages[found] = html
    return html


@bp.get("/v/<payload>")
@limiter.limit(lambda: current_app.config["RATELIMIT_CERTIFICATE_VERIFY"])
def verify_page(payload: str) -> ResponseReturnValue:
    try:
        found = viewing.public_certificate(payload)
    except (PayloadInvalid, NotFound):
        return render_template("public/verify.html", facts=None,
                               message=NEUTRAL_MESSAGE), 404
    return _page(found), 200
