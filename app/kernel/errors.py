"""Domain errors. Each has a machine-readable code, an HTTP status and a Chinese message.

Services raise these; `api/errors.py` turns every one into the same JSON envelope
``{"code", "message", "details"}`` and the admin pages show the message.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "DOMAIN_ERROR"
    status = 400
    message = "请求无法处理"

    def __init__(self, message: str | None = None, **details: Any):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details


class ValidationFailed(DomainError):
    code = "VALIDATION_FAILED"
    status = 422
    message = "提交的信息有误，请检查后重试"

    def __init__(self, fields: dict[str, list[str]], message: str | None = None):
        super().__init__(message, fields=fields)


class NotFound(DomainError):
    code = "NOT_FOUND"
    status = 404
    message = "未找到请求的内容"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    status = 401
    message = "请先登录"


class TokenExpired(Unauthenticated):
    code = "TOKEN_EXPIRED"
    message = "登录已过期，请重新登录"


class TokenInvalid(Unauthenticated):
    code = "TOKEN_INVALID"
    message = "登录凭证无效，请重新登录"


class RefreshTokenInvalid(Unauthenticated):
    code = "REFRESH_TOKEN_INVALID"
    message = "登录状态已失效，请重新登录"


class Forbidden(DomainError):
    code = "FORBIDDEN"
    status = 403
    message = "您没有权限进行此操作"


class Conflict(DomainError):
    code = "CONFLICT"
    status = 409
    message = "操作与当前状态冲突，请刷新后重试"


class CaseStateConflict(Conflict):
    code = "CASE_STATE_CONFLICT"
    message = "办件当前状态不允许此操作"


class IdentityMismatch(Conflict):
    code = "IDENTITY_MISMATCH"
    message = "身份信息与已登记的信息不一致，请到窗口核实"


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    status = 429
    message = "操作过于频繁，请稍后再试"


class OtpTooFrequent(RateLimited):
    code = "OTP_TOO_FREQUENT"
    message = "验证码发送过于频繁，请稍后再试"


class OtpDailyLimit(RateLimited):
    code = "OTP_DAILY_LIMIT"
    message = "今日验证码发送次数已达上限，请明天再试"


class OtpLocked(RateLimited):
    code = "OTP_LOCKED"
    message = "验证码错误次数过多，请重新获取验证码"


class OtpInvalid(Unauthenticated):
    code = "OTP_INVALID"
    message = "验证码错误或已失效"


class WeChatLoginFailed(Unauthenticated):
    code = "WECHAT_LOGIN_FAILED"
    message = "微信登录失败，请重新打开小程序后再试"


class ServiceUnavailable(DomainError):
    code = "SERVICE_UNAVAILABLE"
    status = 503
    message = "服务暂时不可用，请稍后再试"


class SmsUnavailable(ServiceUnavailable):
    code = "SMS_UNAVAILABLE"
    message = "短信发送失败，请稍后再试"


class WeChatUnavailable(ServiceUnavailable):
    code = "WECHAT_UNAVAILABLE"
    message = "微信服务暂时不可用，请稍后再试"


class RegistryUnavailable(ServiceUnavailable):
    code = "REGISTRY_UNAVAILABLE"
    message = "人口信息核查服务暂时不可用，请稍后再试"


class RealnameMismatch(Conflict):
    code = "REALNAME_MISMATCH"
    message = "姓名与身份证号码不一致，请核对后重新输入"


class RealnameNotFound(Conflict):
    code = "REALNAME_NOT_FOUND"
    message = "未查询到该身份证号码的户籍信息，请核对后重新输入或到窗口办理"


class RealnameUnusable(Conflict):
    code = "REALNAME_STATUS_INVALID"
    message = "该身份信息当前状态不能办理业务，请到窗口咨询"


class RealnameRequired(Conflict):
    code = "REALNAME_REQUIRED"
    message = "请先填写并核验姓名和身份证号码"


class ConsentRequired(Conflict):
    code = "CONSENT_REQUIRED"
    message = "进行人脸识别前，需要您阅读并同意人脸识别信息处理单独同意书"


class ConsentVersionOutdated(Conflict):
    code = "CONSENT_VERSION_OUTDATED"
    message = "同意书已更新，请重新阅读后再确认"


class ChallengeInvalid(Conflict):
    code = "KYC_CHALLENGE_INVALID"
    message = "核验会话无效，请重新开始"


class ChallengeUsed(Conflict):
    code = "KYC_CHALLENGE_USED"
    message = "核验会话已使用，请重新开始"


class ChallengeExpired(Conflict):
    code = "KYC_CHALLENGE_EXPIRED"
    message = "核验已超时，请重新开始"


class WeChatAccountRequired(Conflict):
    code = "WECHAT_ACCOUNT_REQUIRED"
    message = "微信人脸核身需要在微信小程序中进行"


class KycRefused(DomainError):
    """A face verification decided 'no': the code names the reason (KYC_NO_FACE …)."""

    status = 422
    message = "人脸核验未通过，请重试"

    def __init__(self, reason: str, message: str | None = None, **details: Any):
        super().__init__(message, **details)
        self.code = "KYC_" + reason


class KycLocked(RateLimited):
    code = "KYC_LOCKED"
    message = "今日人脸核验失败次数过多，已暂停人脸核验，请明天再试或预约到窗口核验"


class IdentityClaimRequired(Forbidden):
    code = "IDENTITY_CLAIM_REQUIRED"
    message = "此操作需要先完成实名和人脸核验"


class IdentityClaimExpired(IdentityClaimRequired):
    code = "IDENTITY_CLAIM_EXPIRED"
    message = "身份核验已过期，请重新进行人脸核验"


class WeChatVerificationPending(Conflict):
    code = "KYC_WECHAT_PENDING"
    message = "微信人脸核身尚未完成，请完成后再查询结果"


# --- the application (一窗受理) ------------------------------------------------------

class CaseNotEditable(Conflict):
    code = "CASE_NOT_EDITABLE"
    message = "办件已提交，当前不能修改；如需修改请等待退回补正或撤回后重新申请"


class FormSectionUnknown(NotFound):
    code = "FORM_SECTION_UNKNOWN"
    message = "该业务没有这一申请表部分"


class CaseIncomplete(DomainError):
    code = "CASE_INCOMPLETE"
    status = 422
    message = "申请尚不完整，不能提交"


class NotAnApplicant(Forbidden):
    code = "NOT_AN_APPLICANT"
    message = "您不是本办件的申请人（或其代表），无需确认"


class ConfirmationRequiresOwnIdentity(Forbidden):
    code = "CONFIRMATION_REQUIRES_OWN_IDENTITY"
    message = "请先完成本人实名核验后再确认申请"


# --- parallel review -----------------------------------------------------------------

class TaskAlreadyTaken(Conflict):
    code = "TASK_ALREADY_TAKEN"
    message = "该审核任务已由其他审核员处理，请刷新后查看"


class TaskNotClaimed(Conflict):
    code = "TASK_NOT_CLAIMED"
    message = "请先认领该审核任务"


class ReturnItemsRequired(ValidationFailed):
    code = "RETURN_ITEMS_REQUIRED"
    message = "退回补正时请至少选择一项并填写理由"
