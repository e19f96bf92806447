"""Cost of the foundation's hot paths, measured in one run and printed as a table.

    .venv/bin/python -m bench.bench_requests [--requests 300]

Runs the app in process on a fresh SQLite database (migrated) against an in-process
sandbox; compares authenticated requests with the cost of their parts.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from argon2 import PasswordHasher
from flask_migrate import upgrade

from app.cases.service import load_business_types
from app.factory import create_app
from app.kernel import crypto
from app.kernel.settings import generate_dev_secrets
from sandbox.testing import platform_settings_for, sandbox_settings, start_sandbox


def timed(fn: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def row(name: str, samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    return f"| {name:<48} | {len(samples):>5} | {statistics.median(samples):>9.3f} | {p95:>8.3f} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    n = parser.parse_args().requests
    running = start_sandbox(sandbox_settings())
    with tempfile.TemporaryDirectory() as tmp:
        config = {**generate_dev_secrets(), **platform_settings_for(running),
                  "APP_ENV": "test", "INSTANCE_DIR": tmp,
                  "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                  "RATELIMIT_WECHAT_LOGIN_PER_IP": "100000 per minute"}
        app = create_app(config)
        with app.app_context():
            upgrade()
            load_business_types()
            client = app.test_client()
            codes = iter(range(10**9))
            tokens = client.post("/api/auth/wechat", json={"code": "bench.0"}).get_json()
            auth = {"Authorization": f"Bearer {tokens['access_token']}"}
            for _ in range(20):
                client.post("/api/cases", json={"business_type": "change"}, headers=auth)
            protector = crypto.protector()
            token = protector.encrypt("11010519491231002X", "persons.id_number")
            hasher = PasswordHasher()
            rows = [
                row("GET /api/health (no auth, no DB)",
                    timed(lambda: client.get("/api/health"), n)),
                row("GET /api/me (JWT + session check)",
                    timed(lambda: client.get("/api/me", headers=auth), n)),
                row("GET /api/cases (20 cases, page of 20)",
                    timed(lambda: client.get("/api/cases?page_size=20", headers=auth), n)),
                row("POST /api/auth/wechat (code2session via sandbox)",
                    timed(lambda: client.post(
                        "/api/auth/wechat", json={"code": f"bench.{next(codes) + 1}"}), n // 3)),
                row("AES-GCM encrypt + decrypt one ID number",
                    timed(lambda: protector.decrypt(
                        protector.encrypt("11010519491231002X", "c"), "c"), n)),
                row("keyed hash of one ID number",
                    timed(lambda: protector.lookup_hash("11010519491231002X", "id"), n)),
                row("decrypt one stored ID number",
                    timed(lambda: protector.decrypt(token, "persons.id_number"), n)),
                row("argon2id hash (staff password)",
                    timed(lambda: hasher.hash("a staff password 123"), 10)),
            ]
    running.stop()
    print("| operation                                        |     n | median ms |   p95 ms |")
    print("| ------------------------------------------------ | ----- | --------- | -------- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
