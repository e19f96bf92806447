"""Verifying a certificate PDF: ``python -m app.certificates.verify FILE.pdf``.

:func:`verify_pdf` checks, in order, and stops at the first failure:

1. the PDF has exactly one signature, intact and cryptographically valid, covering the
   entire file (nothing appended after signing), chaining up to the CA given as the only
   trust root (pyHanko ``validate_pdf_signature``; no network fetching);
2. the attached ``certificate.json`` parses as :class:`CertificateContent`, in canonical
   form; its SHA-256 is the content hash;
3. the register, asked through ``status_of(number) -> (status, content_hash, reason)``,
   knows the certificate, has not revoked it, and records the same content hash.

The command prints one line (the verdict) and exits 0 when the certificate is valid, 1
otherwise. The register lookup is :func:`app.certificates.service.status_of` (called in
an app context); while that module does not exist the status is reported as unknown.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from app.certificates.content import CertificateContent
from app.certificates.render import EMBEDDED_JSON_NAME
from app.certificates.signing import load_certificate, outside_event_loop

# What a status provider answers (the first element of its tuple).
STATUS_VALID = "valid"
STATUS_REVOKED = "revoked"
STATUS_NOT_FOUND = "not_found"
STATUS_UNKNOWN = "unknown"

STATUS_LABELS = {STATUS_VALID: "有效", STATUS_REVOKED: "已作废", "issuing": "生成中"}

StatusRecord = tuple[str, str, str]  # (status, content hash hex, reason)
# None: the register has no such number (same as STATUS_NOT_FOUND).
StatusProvider = Callable[[str], StatusRecord | None]

_MAX_NAME_TREE_DEPTH = 8


@dataclass(frozen=True)
class Verdict:
    ok: bool
    number: str | None
    reason: str  # one line, Chinese and English
    details: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """The verdict as the command prints it."""
        head = "有效 VALID" if self.ok else "无效 INVALID"
        number = f" {self.number}" if self.number else ""
        return f"{head}{number}：{self.reason}".replace("\n", " ")


def _fail(reason: str, number: str | None = None, **details: Any) -> Verdict:
    return Verdict(ok=False, number=number, reason=reason, details=details)


def _subject(cert: Any) -> str:
    try:
        return str(cert.subject.human_friendly)
    except Exception:  # noqa: BLE001 - only for the message
        return "?"


def _name_tree_lookup(node: Any, name: str, depth: int = 0) -> Any:
    """The value for ``name`` in a PDF name tree (``/Names`` pairs, ``/Kids``), or None."""
    if depth > _MAX_NAME_TREE_DEPTH:
        return None
    names = node.get("/Names")
    if names is not None:
        for i in range(0, len(names) - 1, 2):  # (ArrayObject indexing dereferences)
            if str(names[i]) == name:
                return names[i + 1]
    kids = node.get("/Kids")
    for i in range(len(kids) if kids is not None else 0):
        found = _name_tree_lookup(kids[i], name, depth + 1)
        if found is not None:
            return found
    return None


def embedded_file(reader: PdfFileReader, name: str) -> bytes | None:
    """The contents of the attached file ``name`` (document-level attachments)."""
    try:
        tree = reader.root["/Names"]["/EmbeddedFiles"]
    except KeyError:
        return None
    spec = _name_tree_lookup(tree.get_object(), name)
    if not isinstance(spec, generic.DictionaryObject) or "/EF" not in spec:
        return None
    ef = spec["/EF"].get_object()
    stream = (ef.get("/UF") or ef.get("/F"))
    if stream is None:
        return None
    stream = stream.get_object()
    if not isinstance(stream, generic.StreamObject):
        return None
    return bytes(stream.data)


def _check_signature(reader: PdfFileReader, ca_cert_pem: str) -> Verdict | dict[str, Any]:
    """A failed verdict, or the signature's details."""
    signatures = reader.embedded_signatures
    if not signatures:
        return _fail("未签名：文件中没有电子签名 (no signature)")
    if len(signatures) != 1:
        return _fail(f"签名异常：文件中有 {len(signatures)} 个签名，应为 1 个 "
                     f"(expected exactly one signature)")
    context = ValidationContext(trust_roots=[load_certificate(ca_cert_pem)],
                                allow_fetching=False, revocation_mode="soft-fail")
    try:
        status = outside_event_loop(validate_pdf_signature, signatures[0], context)
    except Exception as exc:  # noqa: BLE001 - a malformed signature is an invalid file
        return _fail(f"签名无效：签名无法解析 (signature cannot be validated: "
                     f"{type(exc).__name__})")
    details: dict[str, Any] = {
        "signer": _subject(status.signing_cert),
        "signed_at": status.signer_reported_dt.isoformat() if status.signer_reported_dt
        else None,
        "intact": status.intact, "valid": status.valid, "trusted": status.trusted,
        "coverage": status.coverage.name if status.coverage else None,
        "docmdp_ok": status.docmdp_ok,
    }
    if not status.intact:
        return _fail("签名无效：文件在签名后被修改 (signed bytes changed: digest mismatch)",
                     **details)
    if not status.valid:
        return _fail("签名无效：签名值校验失败 (signature value does not verify)", **details)
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return _fail("签名无效：签名后文件被追加修改 (signature does not cover the entire file)",
                     **details)
    if not status.trusted:
        problem = str(status.trust_problem_indic or "?")
        return _fail(f"签名不可信：签名证书非本登记机构 CA 签发 (signer not trusted: "
                     f"{details['signer']}; {problem})", **details)
    if not status.bottom_line:
        return _fail("签名无效：签名未通过校验 (signature validation failed)", **details)
    return details


def verify_pdf(pdf_bytes: bytes, *, ca_cert_pem: str, status_of: StatusProvider) -> Verdict:
    """Check a certificate PDF: signature, embedded content, register status."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        signature = _check_signature(reader, ca_cert_pem)
    except Exception as exc:  # noqa: BLE001 - whatever breaks the parser, the file is bad
        return _fail(f"文件无法解析，不是有效的电子证照 PDF (unreadable PDF: "
                     f"{type(exc).__name__})")
    if isinstance(signature, Verdict):
        return signature
    details = dict(signature)

    try:
        raw = embedded_file(reader, EMBEDDED_JSON_NAME)
    except Exception:  # noqa: BLE001
        raw = None
    if raw is None:
        return _fail(f"文件中没有证书内容 {EMBEDDED_JSON_NAME} "
                     f"(no embedded {EMBEDDED_JSON_NAME})", **details)
    try:
        content = CertificateContent.from_json(raw)
        canonical = content.canonical_json()
    except Exception:  # noqa: BLE001 - the content is whatever the file says
        return _fail("证书内容无法解析 (embedded content is malformed)", **details)
    number = content.number
    if canonical != raw:
        return _fail("证书内容不是规范格式 (embedded content is not canonical JSON)", number,
                     **details)
    content_hash = hashlib.sha256(raw).hexdigest()
    details["content_hash"] = content_hash

    try:
        record = status_of(number)
        status, registered_hash, status_reason = record or (STATUS_NOT_FOUND, "", "")
    except Exception as exc:  # noqa: BLE001 - the lookup failed, not the certificate
        return _fail(f"签名与内容有效，但无法查询证书状态 (status lookup failed: "
                     f"{type(exc).__name__})", number, **details)
    details.update(status=status, registered_hash=registered_hash, status_reason=status_reason)
    suffix = f"：{status_reason}" if status_reason else ""
    if status == STATUS_NOT_FOUND:
        return _fail(f"登记记录中没有此证书 (not found in the register){suffix}", number,
                     **details)
    if status == STATUS_UNKNOWN:
        return _fail(f"签名与内容有效，但无法查询证书状态 (status unknown){suffix}", number,
                     **details)
    if status == STATUS_REVOKED:
        return _fail(f"已作废{suffix or '：证书已被登记机构作废'} (revoked)", number, **details)
    if (registered_hash or "").lower() != content_hash:
        return _fail("内容摘要与登记记录不符 (content hash differs from the register)", number,
                     **details)
    if status != STATUS_VALID:
        label = STATUS_LABELS.get(status, status)
        return _fail(f"证书状态为“{label}”，不是有效证书{suffix} (status: {status})", number,
                     **details)
    return Verdict(ok=True, number=number,
                   reason="签名可信，内容与登记记录一致 (signature trusted, content registered)",
                   details=details)


# --- the command ----------------------------------------------------------------------


def _status_unknown(reason: str) -> StatusProvider:
    def status_of(number: str) -> StatusRecord:
        return STATUS_UNKNOWN, "", reason
    return status_of


def register_status_provider() -> StatusProvider:
    """The register lookup for the command: ``app.certificates.service.status_of`` inside
    an app context (the app is created at the first lookup), or "unknown" while the
    service does not exist."""
    try:
        from app.certificates.service import (  # type: ignore[import-not-found,unused-ignore]
            status_of as service_status_of,
        )
    except ImportError as exc:
        if exc.name not in ("app.certificates.service", None):
            raise
        return _status_unknown("证书状态服务未接入 (status service not available)")

    apps: list[Any] = []

    def status_of(number: str) -> StatusRecord | None:
        if not apps:
            from app.factory import create_app

            apps.append(create_app())
        with apps[0].app_context():
            record = service_status_of(number)
        if record is None:
            return None
        if isinstance(record, tuple):
            status, content_hash, reason = record
        else:  # the service's Status(status, content_hash, reason)
            status, content_hash, reason = record.status, record.content_hash, record.reason
        return str(status), str(content_hash or ""), str(reason or "")

    return status_of


def main(argv: Sequence[str] | None = None, *, ca_cert_pem: str | None = None,
         status_of: StatusProvider | None = None) -> int:
    """The command; tests pass ``ca_cert_pem`` and ``status_of`` instead of the settings
    and the register."""
    parser = argparse.ArgumentParser(
        prog="python -m app.certificates.verify",
        description="核验不动产电子证照 PDF：电子签名、证书内容、登记状态。"
                    "Prints one line; exit status 0 if valid, 1 otherwise.")
    parser.add_argument("file", type=Path, help="the certificate PDF")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="the details (signer, coverage, hashes, status) on stderr, "
                             "and pyHanko's own log")
    args = parser.parse_args(argv)
    if not args.verbose:  # pyHanko logs failed validations (with tracebacks) as warnings
        for name in ("pyhanko", "pyhanko_certvalidator"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"无效 INVALID：无法读取文件 (cannot read {args.file}: {exc.strerror})")
        return 1
    if ca_cert_pem is None or status_of is None:
        from app.kernel.settings import load_settings

        settings = load_settings()
        ca_cert_pem = ca_cert_pem or settings["CERT_CA_CERT"]
        status_of = status_of or register_status_provider()
    verdict = verify_pdf(data, ca_cert_pem=ca_cert_pem, status_of=status_of)
    print(verdict.line())
    if args.verbose:
        for key, value in verdict.details.items():
            print(f"  {key}: {value}", file=sys.stderr)
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
