"""Every business type's definition is consistent with the code that reads it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.cases import form
from app.cases.service import BUSINESS_TYPES_FILE
from app.cases.workflow import StepOrder
from app.departments import Department

TYPES = json.loads(BUSINESS_TYPES_FILE.read_text(encoding="utf-8"))

# One valid value per field type, to fill any section.
SAMPLE = {"string": "示例", "text": "示例说明", "integer": 1, "money": 8000,
          "decimal": "89.50", "date": "2026-11-01", "boolean": True}
SPECIAL = {"unit_number": "440402003001GB00012F00010203", "debt_end": "2056-11-30"}


def sample_section(code: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in form.SECTIONS[code].fields:
        if field.choices:
            data[field.name] = field.choices[0][0]
        else:
            data[field.name] = SPECIAL.get(field.name, SAMPLE[field.type])
    if code == "change_details":
        data["after"] = "变更后"
    return data


@pytest.mark.parametrize("definition", TYPES, ids=[t["code"] for t in TYPES])
def test_the_definition_is_consistent(definition: dict[str, Any]) -> None:
    body = definition["definition"]
    roles = {r["code"] for r in body["roles"]}
    assert StepOrder(definition["step_order"])
    assert definition["time_limit_working_days"] >= 1
    assert body["form_sections"][:2] == ["unit", "parties"]
    assert set(body["form_sections"]) <= set(form.SECTIONS)
    for role in body["roles"]:
        assert 0 <= role["min"] <= role["max"] and set(role["kinds"]) <= {"natural", "legal"}
    assert any(r["min"] >= 1 for r in body["roles"])
    for material in body["materials"]:
        assert set(material["roles"]) <= roles, material["code"]
    assert body["departments"][0] == "registration"
    assert {Department(d) for d in body["departments"]}
    for department, scope in body.get("review_scope", {}).items():
        assert department in body["departments"]
        assert set(scope["materials"]) <= {m["code"] for m in body["materials"]}
        assert set(scope["sections"]) <= set(body["form_sections"])


@pytest.mark.parametrize("definition", TYPES, ids=[t["code"] for t in TYPES])
def test_every_section_of_the_type_accepts_a_valid_sample(definition: dict[str, Any]) -> None:
    for code in definition["definition"]["form_sections"]:
        if code == form.APPLICANTS_SECTION:
            continue
        stored = form.validate_section(code, sample_section(code))
        assert form.section_problems(code, stored) == []
        assert form.section_problems(code, None) == ["尚未填写"]


def test_the_published_fields_match_the_validation() -> None:
    for section in form.SECTIONS.values():
        public = section.public()
        required = {f["name"] for f in public["fields"] if f["required"]}
        if required:
            problems = form.section_problems(section.code, {})
            assert len(problems) == len(required), section.code
