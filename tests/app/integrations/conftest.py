"""The platform's WeChat, SMS, registry, data-sharing and courier clients against a sandbox
served for the session and emptied before each test (tests/sandbox/conftest.py)."""

from tests.sandbox.conftest import (  # noqa: F401 - fixtures
    broken_server,
    platform_config,
    registry,
    running_sandbox,
    sandbox,
    sms,
    unreachable_url,
    wechat,
)
