"""Cost of the application path: submission with its checks, the review queue, a decision.

    .venv/bin/python -m bench.bench_review [--cases 300]

Runs the app in process on a fresh SQLite database (migrated) against an in-process
sandbox (the data-sharing services answer over HTTP on 127.0.0.1). Builds ``--cases``
accepted resale transfers through the real services, then times the queue page of a
reviewer as it fills, and one approval.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from flask_migrate import upgrade
from PIL import Image

from app.accounts.service import account_for_phone
from app.cases import application
from app.cases import service as cases
from app.factory import create_app
from app.identity import claims
from app.kernel.db import db
from app.kernel.settings import generate_dev_secrets
from app.kernel.timeutil import local_date
from app.materials import service as materials
from app.people import service as people
from app.reference import load_reference_data
from app.register import service as register
from app.review import service as review
from app.staff.models import StaffRole
from app.staff.service import StaffIdentity, create_staff
from sandbox.testing import platform_settings_for, sandbox_settings, start_sandbox


def ms(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def row(name: str, samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[max(int(len(samples) * 0.95) - 1, 0)]
    return (f"| {name:<56} | {len(samples):>5} | {statistics.median(samples):>9.2f} "
            f"| {p95:>8.2f} |")


_shade = iter(range(10**9))


def scan() -> io.BytesIO:
    n = next(_shade)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (n % 256, (n // 256) % 256, 90)).save(out, "PNG")
    out.seek(0)
    return out


def unit_number(i: int) -> str:
    return f"440402003001GB{i + 1:05d}F00010203"


def file_case(i: int, buyer_account: Any, seller_account: Any) -> str:
    """A complete resale transfer through the services, confirmed by both parties."""
    number = cases.create_draft(buyer_account, "resale_transfer", channel="system",
                                prefix="BM").case_number
    for section, data in {
        "unit": {"unit_number": unit_number(i), "location": "示范路", "area_m2": "89.50",
                 "use": "住宅"},
        "transaction": {"contract_number": f"B{i}", "contract_date": "2026-11-01",
                        "price_fen": 100000000, "payment_method": "一次性付款"},
        "tax_declaration": {"buyer_first_home": "yes", "seller_only_home_over_5_years": "no"},
        "certificate_delivery": {"form": "electronic"},
    }.items():
        application.save_section(buyer_account, number, section, data, "system")
    for body in (application.NewApplicant("buyer", "natural", "张三", "440402198801010018",
                                          "1/1"),
                 application.NewApplicant("seller", "natural", "李四", "440402199003150029")):
        application.add_applicant(buyer_account, number, body, "system")
    case = cases.get_case_for(buyer_account, number)
    for entry in materials.checklist(case):
        if entry.required:
            materials.upload(buyer_account, number, item=entry.item, role=entry.role,
                             filename="s.png", stream=scan(), channel="system")
    for account in (buyer_account, seller_account):
        claim = claims.issue(account.id, account.person_id or 0, "bench")
        application.confirm(account, claim, number, "system")
    return number


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=300)
    n = parser.parse_args().cases
    running = start_sandbox(sandbox_settings())
    with tempfile.TemporaryDirectory() as tmp:
        config = {**generate_dev_secrets(), **platform_settings_for(running),
                  "APP_ENV": "test", "INSTANCE_DIR": tmp,
                  "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"}
        app = create_app(config)
        with app.app_context():
            upgrade()
            load_reference_data(local_date())
            buyer_account = account_for_phone("+8613800000001", "system")
            seller_account = account_for_phone("+8613800000002", "system")
            people.bind_verified_identity(buyer_account, "张三", "440402198801010018",
                                                  method="bench", channel="system")
            seller = people.bind_verified_identity(seller_account, "李四",
                                                   "440402199003150029", method="bench",
                                                   channel="system")
            tax = create_staff("bench.tax", "税务", [StaffRole.TAX_REVIEWER]).user
            staff = StaffIdentity(tax.id, tax.username, "税务", (StaffRole.TAX_REVIEWER,))
            fill, submit, queue = [], [], []
            for i in range(n):
                unit = cases.get_or_create_unit(unit_number(i), "示范路", Decimal("89.50"), "住宅")
                register.import_entry(unit, register.RightDetails(
                    "国有建设用地使用权/房屋所有权", "存量商品房", "住宅", Decimal("89.50")),
                    [register.OwnerShare(seller.id, "1/1")], source="bench")
                db.session.commit()

                start = time.perf_counter()
                number = file_case(i, buyer_account, seller_account)
                fill.append((time.perf_counter() - start) * 1000)
                submit.append(ms(partial(application.submit, buyer_account, number, "system")))
                if (i + 1) % max(n // 10, 1) == 0:
                    queue.append(ms(lambda: review.queue(staff)))
            from app.cases.pdf import render_application_pdf

            sample = cases.get_case_for(buyer_account, number)
            render = [ms(lambda: render_application_pdf(application.application_document(sample)))
                      for _ in range(10)]
            pending = review.queue(staff)
            full_queue = [ms(lambda: review.queue(staff)) for _ in range(20)]
            decide = [ms(partial(review.approve, row_.task.id, staff)) for row_ in pending[:20]]
    running.stop()
    print(f"\n{n} resale transfers, SQLite, in process; the sandbox over HTTP on 127.0.0.1\n")
    print(f"| {'operation':<56} | {'n':>5} | {'median ms':>9} | {'p95 ms':>8} |")
    print(f"| {'-' * 56} | {'-' * 5} | {'-' * 9} | {'-' * 8} |")
    print(row("fill a case (4 sections, 2 parties, 7 uploads, 2 confirms)", fill))
    print(row("submit: PDF + 6 checks over HTTP + accept + 3 tasks", submit))
    print(row("  of which: render the application form PDF", render))
    print(row(f"review queue of one department ({len(pending)} tasks)", full_queue))
    print(row("review queue while it fills (10 sizes)", queue))
    print(row("approve one task (conditional UPDATE + case lock)", decide))


if __name__ == "__main__":
    main()
