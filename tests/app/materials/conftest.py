"""Materials tests: the blueprint registered here until api/__init__.py lists it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask


def _register_materials_api(app: Flask) -> None:
    if "materials" in app.blueprints:
        return
    import app.materials.models  # noqa: F401  (the table in the metadata)
    from api import api
    from api import materials as materials_api
    from app.extensions import csrf

    api.register_blueprint(materials_api.blp)
    csrf.exempt(materials_api.blp)


@pytest.fixture
def make_app(make_app: Any) -> Iterator[Any]:
    def factory(**overrides: Any) -> Flask:
        app = make_app(**overrides)
        _register_materials_api(app)
        return app

    yield factory


@pytest.fixture
def instance_dir(tmp_path: Any) -> Any:
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def app(make_app: Any, instance_dir: Any) -> Iterator[Flask]:
    """The app with its files on disk under this test's own instance directory."""
    app = make_app(INSTANCE_DIR=str(instance_dir))
    with app.app_context():
        yield app
