"""Admin pages for staff: a Jinja blueprint where every page sits behind ``staff_required``.

Login takes two steps (password, then a TOTP code) and ends in Flask's signed session
cookie: staff id, a per-login nonce, the login time, a stamp of the credentials and
the "second factor passed" flag. Views parse, authorise, call one service function
and render; the rules live in ``app.staff.service``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from app.extensions import limiter
from app.identity import service as identity_service
from app.kernel.audit import Channel
from app.kernel.errors import DomainError
from app.staff import service
from app.staff.models import StaffRole
from app.staff.service import (
    AUDIT_VIEWER_ROLES,
    LoginStepExpired,
    StaffLoginFailed,
    TotpInvalid,
)
from app.usecases.dashboard import dashboard as dashboard_sections
from app.web.staff_pages import (
    AUTH_AT,
    NEXT,
    NONCE,
    PENDING_AT,
    PENDING_ID,
    SECOND_FACTOR,
    STAFF_ID,
    STAMP,
    _describe,
    _safe_next,
    _session_login,
    _session_pending,
    bp,
    staff_required,
)

ROLE_CHOICES = [SelectChoice(str(role), role.label) for role in StaffRole]


def _login_rate_limit() -> str:
    return str(current_app.config["RATELIMIT_STAFF_LOGIN_PER_IP"])


# --- forms --------------------------------------------------------------------------


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[
        DataRequired("请输入用户名"), Length(max=64, message="用户名过长"),
    ])
    password = PasswordField("密码", validators=[
        DataRequired("请输入密码"), Length(max=256, message="密码过长"),
    ])
    next = HiddenField()


class TotpForm(FlaskForm):
    code = StringField("动态验证码", validators=[
        DataRequired("请输入验证器中的6位动态验证码"),
        Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message="动态验证码应为6位数字"),
    ])


class CreateStaffForm(FlaskForm):
    username = StringField("用户名", validators=[
        DataRequired("请输入用户名"), Length(max=64, message="用户名过长"),
    ])
    display_name = StringField("姓名", validators=[
        DataRequired("请输入姓名"), Length(max=50, message="姓名过长"),
    ])
    # Choices are checked by the service (one Chinese message for unknown roles).
    roles = SelectMultipleField(
        "角色", choices=ROLE_CHOICES, validate_choice=False,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
    )
    password = PasswordField("初始密码", validators=[
        Optional(), Length(max=256, message="密码过长"),
    ])


class GrantRoleForm(FlaskForm):
    role = SelectField("角色", choices=ROLE_CHOICES, validate_choice=False)


# --- session and the one decorator --------------------------------------------------




def _first_form_error(form: FlaskForm) -> str:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return "提交的信息有误，请检查后重试"


# --- login --------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    if _session_login() is not None:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    error = None
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    elif form.validate_on_submit():
        try:
            pending = service.begin_login(form.username.data or "", form.password.data or "")
        except StaffLoginFailed as failure:
            error = failure.message
        else:
            next_url = _safe_next(form.next.data)
            session.clear()  # no fixation: nothing from before the password survives
            session[PENDING_ID] = pending.staff_id
            session[PENDING_AT] = pending.started_at
            if next_url:
                session[NEXT] = next_url
            return redirect(url_for("admin.login_totp"))
    else:
        error = _first_form_error(form)
    return render_template("admin/login.html", form=form, error=error)


@bp.route("/login/totp", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def login_totp() -> ResponseReturnValue:
    pending = _session_pending()
    if pending is None:
        return redirect(url_for("admin.login"))
    form = TotpForm()
    if request.method == "POST":
        # Post/redirect/get: each request calls one use case, the page is rendered by GET.
        if not form.validate_on_submit():
            flash(_first_form_error(form), "error")
            return redirect(url_for("admin.login_totp"))
        try:
            done = service.finish_login(*pending, form.code.data or "")
        except TotpInvalid as error:
            flash(error.message, "error")
            return redirect(url_for("admin.login_totp"))
        except (StaffLoginFailed, LoginStepExpired) as error:
            session.clear()
            flash(error.message, "error")
            return redirect(url_for("admin.login"))
        next_url = _safe_next(session.get(NEXT))
        session.clear()  # a fresh session (and CSRF token) for the logged-in staff member
        session[STAFF_ID] = done.staff.id
        session[NONCE] = done.nonce
        session[AUTH_AT] = done.authenticated_at
        session[STAMP] = done.stamp
        session[SECOND_FACTOR] = True
        return redirect(next_url or url_for("admin.dashboard"))
    try:
        info = service.pending_login(*pending)
    except (StaffLoginFailed, LoginStepExpired) as error:
        session.clear()
        flash(error.message, "error")
        return redirect(url_for("admin.login"))
    return render_template("admin/login_totp.html", form=form, pending=info)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    login = _session_login()
    if login is not None:
        service.logout(login[0], channel=Channel.ADMIN)
    session.clear()
    flash("您已退出登录", "info")
    return redirect(url_for("admin.login"))


# --- dashboard ----------------------------------------------------------------------


@bp.get("/")
@staff_required()
def dashboard() -> ResponseReturnValue:
    return render_template("admin/dashboard.html", sections=dashboard_sections(g.staff))


# --- staff management (supervisors) -------------------------------------------------


@bp.get("/staff")
@staff_required(StaffRole.SUPERVISOR)
def staff_list() -> ResponseReturnValue:
    return render_template("admin/staff_list.html", staff=service.list_staff())


@bp.route("/staff/new", methods=["GET", "POST"])
@staff_required(StaffRole.SUPERVISOR)
def staff_new() -> ResponseReturnValue:
    form = CreateStaffForm()
    error = None
    if form.validate_on_submit():
        try:
            created = service.create_staff(
                form.username.data or "",
                form.display_name.data or "",
                service.parse_roles(form.roles.data or []),
                form.password.data or None,
                actor_id=g.staff.id,
                channel=Channel.ADMIN,
            )
        except DomainError as failure:
            error = _describe(failure)
        else:
            return render_template(
                "admin/staff_credentials.html", staff=created.staff,
                password=created.password, enrolment=created.enrolment, reason="created",
            )
    elif request.method == "POST":
        error = _first_form_error(form)
    return render_template("admin/staff_new.html", form=form, error=error)


def _staff_action(action: Callable[[], Any], success: str) -> ResponseReturnValue:
    """Run one supervisor action and go back to the list with a message."""
    try:
        action()
    except DomainError as error:
        flash(_describe(error), "error")
    else:
        flash(success, "success")
    return redirect(url_for("admin.staff_list"))


@bp.post("/staff/<int:staff_id>/roles")
@staff_required(StaffRole.SUPERVISOR)
def staff_grant_role(staff_id: int) -> ResponseReturnValue:
    form = GrantRoleForm()
    return _staff_action(
        lambda: service.grant_roles(g.staff, staff_id, service.parse_roles([form.role.data or ""])),
        "已授予角色",
    )


@bp.post("/staff/<int:staff_id>/roles/<role>/revoke")
@staff_required(StaffRole.SUPERVISOR)
def staff_revoke_role(staff_id: int, role: str) -> ResponseReturnValue:
    return _staff_action(
        lambda: service.revoke_role(g.staff, staff_id, service.parse_roles([role])[0]),
        "已撤销角色",
    )


@bp.post("/staff/<int:staff_id>/deactivate")
@staff_required(StaffRole.SUPERVISOR)
def staff_deactivate(staff_id: int) -> ResponseReturnValue:
    return _staff_action(lambda: service.set_active(g.staff, staff_id, False), "已停用账号")


@bp.post("/staff/<int:staff_id>/activate")
@staff_required(StaffRole.SUPERVISOR)
def staff_activate(staff_id: int) -> ResponseReturnValue:
    return _staff_action(lambda: service.set_active(g.staff, staff_id, True), "已启用账号")


@bp.post("/staff/<int:staff_id>/unlock")
@staff_required(StaffRole.SUPERVISOR)
def staff_unlock(staff_id: int) -> ResponseReturnValue:
    return _staff_action(lambda: service.unlock_staff(g.staff, staff_id), "已解除锁定")


@bp.post("/staff/<int:staff_id>/reset-second-factor")
@staff_required(StaffRole.SUPERVISOR)
def staff_reset_second_factor(staff_id: int) -> ResponseReturnValue:
    try:
        reset = service.reset_second_factor(g.staff, staff_id)
    except DomainError as error:
        flash(_describe(error), "error")
        return redirect(url_for("admin.staff_list"))
    return render_template(
        "admin/staff_credentials.html", staff=reset.staff, password=None,
        enrolment=reset.enrolment, reason="reset",
    )


# --- audit log (auditors and supervisors) -------------------------------------------


@bp.get("/audit")
@staff_required(*AUDIT_VIEWER_ROLES)
def audit_log() -> ResponseReturnValue:
    args = request.args
    log = service.audit_log(
        entity_type=args.get("entity_type"),
        entity_id=args.get("entity_id"),
        action=args.get("action"),
        page=args.get("page", 1, type=int) or 1,
    )
    return render_template("admin/audit.html", log=log)


# --- identity verification (helpdesk and supervisors) --------------------------------

IDENTITY_DESK_ROLES = (StaffRole.HELPDESK, StaffRole.SUPERVISOR)


class CounterVerificationForm(FlaskForm):
    name = StringField("姓名（与身份证原件一致）", validators=[
        DataRequired("请输入姓名"), Length(max=50, message="姓名过长")])
    id_number = StringField("身份证号码", validators=[
        DataRequired("请输入身份证号码"), Length(max=30, message="身份证号码过长")])
    method = StringField("核验方式", default="查验居民身份证原件，人证比对一致", validators=[
        DataRequired("请填写核验方式"), Length(max=100, message="核验方式过长")])


class FaceUnlockForm(FlaskForm):
    id_number = StringField("身份证号码", validators=[
        DataRequired("请输入身份证号码"), Length(max=30, message="身份证号码过长")])
    reason = StringField("解锁原因", validators=[
        DataRequired("请填写解锁原因"), Length(max=200, message="原因过长")])


@bp.get("/identity")
@staff_required(*IDENTITY_DESK_ROLES)
def identity_desk() -> ResponseReturnValue:
    return render_template(
        "admin/identity.html", appointments=identity_service.list_appointments(),
        complete_form=CounterVerificationForm(), unlock_form=FaceUnlockForm(),
    )


@bp.post("/identity/appointments/<int:appointment_id>/complete")
@staff_required(*IDENTITY_DESK_ROLES)
def identity_complete_appointment(appointment_id: int) -> ResponseReturnValue:
    form = CounterVerificationForm()
    if not form.validate_on_submit():
        flash(_first_form_error(form), "error")
    else:
        try:
            identity_service.complete_appointment(
                g.staff.id, appointment_id, form.name.data or "", form.id_number.data or "",
                form.method.data or "")
        except DomainError as error:
            flash(_describe(error), "error")
        else:
            flash("已完成窗口身份核验，市民账号已完成实名", "success")
    return redirect(url_for("admin.identity_desk"))


@bp.post("/identity/unlock")
@staff_required(*IDENTITY_DESK_ROLES)
def identity_unlock() -> ResponseReturnValue:
    form = FaceUnlockForm()
    if not form.validate_on_submit():
        flash(_first_form_error(form), "error")
    else:
        try:
            identity_service.unlock(g.staff.id, form.id_number.data or "",
                                    form.reason.data or "")
        except DomainError as error:
            flash(_describe(error), "error")
        else:
            flash("已解除该市民今日的人脸核验限制", "success")
    return redirect(url_for("admin.identity_desk"))

