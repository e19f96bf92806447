"""The departments that review a case and collect its fees (并联审核, 一次缴清)."""

from __future__ import annotations

import enum


class Department(enum.StrEnum):
    REGISTRATION = "registration"
    HOUSING = "housing"
    TAX = "tax"

    @property
    def label(self) -> str:
        return {"registration": "不动产登记中心", "housing": "住房和城乡建设局",
                "tax": "税务局"}[self.value]
