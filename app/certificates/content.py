"""What a certificate says: one frozen value, rendered to PNG and PDF, hashed and signed.

The canonical JSON of a :class:`CertificateContent` (sorted keys, no spaces, UTF-8) is
what the content hash covers; the PDF embeds it, the QR payload carries its hash, and the
verification tool recomputes it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

KIND_TITLES = {"certificate": "不动产权证书", "proof": "不动产登记证明"}
KIND_NUMBER_WORDS = {"certificate": "不动产权", "proof": "不动产证明"}


@dataclass(frozen=True)
class Holder:
    """A right holder (权利人) or, on a proof, an obligor (义务人)."""

    name: str
    id_number: str  # the full number: the certificate is the owner's legal document
    share: str = ""  # "1/2", "100%" or "" (joint ownership has no shares)


@dataclass(frozen=True)
class CertificateContent:
    number: str  # 粤(2026)珠海市不动产权第0000001号
    kind: str  # "certificate" | "proof"
    authority: str  # the registration authority's name (登记机构)
    seal_text: str  # the text around the seal (e.g. 珠海市不动产登记中心)
    issue_date: date
    holders: tuple[Holder, ...]
    co_ownership: str  # 共有情况: 单独所有 / 共同共有 / 按份共有
    location: str  # 坐落
    unit_number: str  # 不动产单元号
    right_type: str  # 权利类型
    right_nature: str  # 权利性质
    use: str  # 用途
    area: str  # 面积, as printed (e.g. 建筑面积 89.50 平方米)
    term: str  # 使用期限
    other: str = ""  # 权利其他状况
    notes: str = ""  # 附记 (encumbrances, the certificate it replaces, …)
    matter: str = ""  # proof only: 证明权利或事项 (e.g. 抵押权)
    obligors: tuple[Holder, ...] = field(default_factory=tuple)  # proof only: 义务人

    @property
    def title(self) -> str:
        return KIND_TITLES[self.kind]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["issue_date"] = self.issue_date.isoformat()
        return data

    def canonical_json(self) -> bytes:
        return json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode("utf-8")

    def content_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON."""
        return hashlib.sha256(self.canonical_json()).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CertificateContent:
        values = dict(data)
        values["issue_date"] = date.fromisoformat(values["issue_date"])
        values["holders"] = tuple(Holder(**h) for h in values.get("holders", ()))
        values["obligors"] = tuple(Holder(**h) for h in values.get("obligors", ()))
        return cls(**values)

    @classmethod
    def from_json(cls, raw: bytes) -> CertificateContent:
        return cls.from_dict(json.loads(raw.decode("utf-8")))


def sample_content(**overrides: Any) -> CertificateContent:
    """A realistic certificate for tests, benchmarks and the renderer's preview."""
    values: dict[str, Any] = {
        "number": "粤(2026)珠海市不动产权第0000001号", "kind": "certificate",
        "authority": "珠海市自然资源局", "seal_text": "珠海市不动产登记中心",
        "issue_date": date(2026, 11, 24),
        "holders": (Holder("张三", "440402199001010018", "1/2"),
                    Holder("李梅", "440402199203040026", "1/2")),
        "co_ownership": "按份共有", "location": "珠海市香洲区海滨南路 88 号 1 栋 2 单元 1203 房",
        "unit_number": "440402003001GB00012F00010203",
        "right_type": "国有建设用地使用权/房屋所有权",
        "right_nature": "出让/存量商品房", "use": "城镇住宅用地/住宅",
        "area": "共有宗地面积 12000.00 平方米/房屋建筑面积 89.50 平方米",
        "term": "国有建设用地使用权 2006年05月01日起 2076年04月30日止",
        "other": "专有建筑面积 76.20 平方米，分摊建筑面积 13.30 平方米",
        "notes": "",
    }
    values.update(overrides)
    return CertificateContent(**values)
