"""Reference data kept as files and loaded idempotently: business types, halls, slots."""

from __future__ import annotations

from datetime import date

from app.appointments.service import generate_slots, load_halls
from app.cases.service import load_business_types


def load_reference_data(today: date, slot_days: int = 14) -> dict[str, int]:
    """Insert what is missing; edits made since (by supervisors) are kept."""
    return {
        "business_types": load_business_types(),
        "halls": len(load_halls()),
        "slots": generate_slots(today, slot_days),
    }
