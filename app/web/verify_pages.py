"""The public page a certificate's QR code opens: valid or revoked, the masked owner and
the issue date, nothing more. A QR whose signed payload does not verify, or names no
issued certificate, gets the same neutral answer."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from app.certificates import viewing
from app.errors import NotFound
from app.extensions import limiter

bp = Blueprint("verify", __name__)


@bp.get("/v/<payload>")
@limiter.limit(lambda: current_app.config["RATELIMIT_CERTIFICATE_VERIFY"])
def verify_page(payload: str) -> ResponseReturnValue:
    from app.certificates.signing import PayloadInvalid

    try:
        facts = viewing.public_facts(payload)
    except (PayloadInvalid, NotFound):
        message = "二维码无效或证书不存在，请核对证书原件或联系登记机构。"
        return render_template("public/verify.html", facts=None, message=message), 404
    return render_template("public/verify.html", facts=facts), 200
