"""The owner's certificate on a phone: ``/m/certificates/<number>`` (the watermarked
image, the signed PDF, who viewed it) and reporting an error in it.

Who: a holder of the certificate (``app.certificates.viewing.owned`` for the session's
account), or a session that verified the code of a ``view_certificate`` short link for
exactly this number (its person a holder). The page, the image and the PDF also need a
fresh one-time code (``session.verified_recently``, ``H5_VERIFIED_MINUTES``): the H5
counterpart of the mini-program's fresh identity claim. Without one the page sends the
citizen through ``/m/verify`` and back; the image is refused (403).

Every image and PDF is recorded by ``viewing.watermarked_image`` / ``viewing.signed_pdf``
with channel ``mobile_web`` and appears in the owner's "who viewed" list (here and in
the mini-program). Reporting an error uses ``app.certificates.corrections`` — one open
report per certificate — and needs the account itself to be the holder's (a link's
grant alone does not report).
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

from flask import Response, flash, redirect, render_template, send_file
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from app.cases.models import Case
from app.certificates import corrections, viewing
from app.certificates.models import Certificate, CertificateStatus
from app.kernel.audit import Channel
from app.kernel.errors import CaseStateConflict, NotFound, ValidationFailed
from app.links.models import LinkPurpose
from app.usecases.correct_certificate import report_certificate_error
from app.web.h5 import bp
from app.web.h5 import session as h5
from app.web.h5.fresh import ask_for_code
from app.web.h5.views import error_page

NOT_FOUND = "未找到该证书"
MAX_NUMBER = 60
ACTION_LABELS = {"view": "查看证书内容", "view_image": "查看证书图片",
                 "download_pdf": "下载证书PDF", "verify": "扫码核验", "lookup": "机构查询"}
REPORT_NEEDS_OWNER = ("报告证书记载错误需要以本人实名认证的账号办理：请在微信小程序“我的证书”"
                      "中报告，或携带身份证件到服务窗口办理。")


class CorrectionForm(FlaskForm):
    item = StringField("有误的记载事项")
    description = TextAreaField("具体说明")


def certificate_path(number: str, tail: str = "") -> str:
    return f"/m/certificates/{quote(number, safe='')}{tail}"


def _granted(number: str) -> Certificate | None:
    """The certificate of a view_certificate link this session verified, if the link's
    person holds it."""
    link = h5.granted_link((LinkPurpose.VIEW_CERTIFICATE,), number)
    if link is None:
        return None
    return viewing.held_by_person(number, link.person_id)


def accessible(number: str) -> tuple[Certificate, bool]:
    """The certificate for this session and whether the account itself holds it;
    NotFound for anything else (never says whose)."""
    account = h5.current_citizen()
    if not 1 <= len(number) <= MAX_NUMBER or not number.isprintable():
        raise NotFound(NOT_FOUND)
    try:
        return viewing.owned(account, number), True
    except NotFound:
        granted = _granted(number)
        if granted is None:
            raise NotFound(NOT_FOUND) from None
        return granted, False


def certificates_on_case(case: Case) -> list[dict[str, Any]]:
    """The case's certificates this session may open (for the case page)."""
    shown = []
    for certificate in viewing.of_case(case.id):
        try:
            accessible(certificate.number)
        except NotFound:
            continue
        summary = viewing.summary(certificate)
        shown.append({"number": certificate.number, "kind_label": summary["kind_label"],
                      "status_label": summary["status_label"],
                      "href": certificate_path(certificate.number)})
    return shown


@bp.get("/m/certificates/<path:number>")
@h5.citizen_required
def certificate(number: str) -> ResponseReturnValue:
    found, own = accessible(number)
    if not h5.verified_recently():
        return ask_for_code(certificate_path(found.number))
    accesses = [{**a, "action_label": ACTION_LABELS.get(a["action"], a["action"])}
                for a in viewing.accesses(found)]
    summary = viewing.summary(found)
    return render_template(
        "h5/certificate.html", certificate=summary, own=own,
        has_image=found.png_key is not None, has_pdf=found.pdf_key is not None,
        image_href=certificate_path(found.number, "/image"),
        pdf_href=certificate_path(found.number, "/pdf"),
        correction_href=certificate_path(found.number, "/correction"),
        replaced_href=(certificate_path(summary["replaced_by"])
                       if summary["replaced_by"] else None),
        accesses=accesses)


@bp.get("/m/certificates/<path:number>/image")
@h5.citizen_required
def certificate_image(number: str) -> ResponseReturnValue:
    found, _own = accessible(number)
    if not h5.verified_recently():
        return error_page(403, "查看证书需要先完成短信验证，请返回证书页面重新验证。")
    if found.png_key is None:
        raise NotFound(NOT_FOUND)
    png = viewing.watermarked_image(found, h5.current_citizen(), Channel.MOBILE_WEB)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "no-store"})


@bp.get("/m/certificates/<path:number>/pdf")
@h5.citizen_required
def certificate_pdf(number: str) -> ResponseReturnValue:
    found, _own = accessible(number)
    if not h5.verified_recently():
        return ask_for_code(certificate_path(found.number))
    if found.pdf_key is None:
        raise NotFound(NOT_FOUND)
    data = viewing.signed_pdf(found, h5.current_citizen(), Channel.MOBILE_WEB)
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"certificate-{found.kind}-{found.year}-"
                                   f"{found.serial:07d}.pdf")


# --- reporting an error ------------------------------------------------------------------


def _correction_page(found: Certificate, form: CorrectionForm, *, error: str | None = None,
                     field_errors: dict[str, list[str]] | None = None,
                     status: int = 200) -> ResponseReturnValue:
    reports = [corrections.view(r) for r in corrections.requests_of(h5.current_citizen(),
                                                                      found.number)]
    has_open = any(r["status"] == "open" for r in reports)
    return render_template(
        "h5/correction.html", certificate=viewing.summary(found), form=form,
        items=corrections.ITEMS, reports=reports, has_open=has_open,
        valid=found.status_enum == CertificateStatus.VALID, error=error,
        field_errors=field_errors or {}, fresh=h5.verified_recently(),
        action=certificate_path(found.number, "/correction"),
        certificate_href=certificate_path(found.number)), status


def _own_certificate(number: str) -> Certificate | ResponseReturnValue:
    found, own = accessible(number)
    if not own:
        return error_page(403, REPORT_NEEDS_OWNER)
    return found


@bp.get("/m/certificates/<path:number>/correction")
@h5.citizen_required
def correction(number: str) -> ResponseReturnValue:
    found = _own_certificate(number)
    if not isinstance(found, Certificate):
        return found
    return _correction_page(found, CorrectionForm())


@bp.post("/m/certificates/<path:number>/correction")
@h5.citizen_required
def correction_submit(number: str) -> ResponseReturnValue:
    found = _own_certificate(number)
    if not isinstance(found, Certificate):
        return found
    form = CorrectionForm()
    if not form.validate_on_submit():
        return error_page(400, "页面已过期，请返回上一页刷新后重试。")
    here = certificate_path(found.number, "/correction")
    if not h5.verified_recently():
        flash("为保护您的证书信息，提交前请先完成短信验证", "info")
        return ask_for_code(here)
    try:
        report_certificate_error(h5.current_citizen(), found.number,
                                 (form.item.data or "").strip(), form.description.data or "",
                                 Channel.MOBILE_WEB)
    except ValidationFailed as failure:
        fields = failure.details.get("fields", {})
        return _correction_page(found, form, field_errors=fields,
                                error="提交的信息有误，请检查后重试", status=422)
    except CaseStateConflict as conflict:
        return _correction_page(found, form, error=conflict.message, status=409)
    flash("已提交，登记机构将在1个工作日内答复，答复后短信通知您", "success")
    return redirect(here)
