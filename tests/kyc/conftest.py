"""Fixtures of the kyc library tests: the real engine (loaded once) and the test photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kyc.engine import FaceEngine, get_engine, reference_encoding
from kyc.settings import KycSettings

FACES = Path(__file__).resolve().parents[1] / "data" / "faces"


def photo(name: str) -> bytes:
    return (FACES / name).read_bytes()


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    return get_engine()


@pytest.fixture(scope="session")
def settings() -> KycSettings:
    return KycSettings()


@pytest.fixture(scope="session")
def references(engine: FaceEngine, settings: KycSettings) -> dict[str, np.ndarray]:
    """Reference encodings of the photos with one face, by file name."""
    names = ["obama.jpg", "obama2.jpg", "obama-240p.jpg", "biden.jpg", "biden2.jpg",
             "lin-manuel-miranda.png", "32bit.png", "obama_partial_face.jpg"]
    return {name: reference_encoding(photo(name), settings, engine) for name in names}
