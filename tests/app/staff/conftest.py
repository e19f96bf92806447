"""The staff service's clock, as on the admin pages (tests/app/web/admin/conftest.py)."""

from tests.app.web.admin.conftest import clock  # noqa: F401 - fixture
