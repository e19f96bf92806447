"""Cost of the payment path: order creation and gateway notifications (issue 5).

    .venv/bin/python -m bench.payments [--cases 100] [--alipay-cases 25] [--requests 1000]

Runs the app in process on a fresh SQLite database (migrated) against an in-process
sandbox (WeChat Pay and Alipay answer over HTTP on 127.0.0.1), and prints one table:

* the baseline: a bare ``Flask(__name__)`` endpoint and the app's ``GET /api/health``,
  both through a test client;
* order creation: ``POST /api/cases/<n>/payments`` (WeChat Pay) for ``--cases`` distinct
  cases with fees assessed (each a real unifiedorder to the sandbox), then the same
  request again (idempotent: the same order, no gateway call); Alipay orders for
  ``--alipay-cases`` more cases (a signed cashier URL, no network call);
* notifications: each paid order's signed notification (taken from the sandbox, whose
  own delivery is off) posted to ``/api/payments/notify/<gateway>``: the first delivery
  (verify, ledger, case paid, audit, one commit) and two repeats (duplicates);
* "of which" rows: the unifiedorder call and the signature checks alone.

The cases are built through the real services as in bench/bench_review.py (fill, submit
with its checks, three approvals: fees assessed); that part is not timed but dominates
the run time (about 0.7 s a case, mostly the application form PDF).
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import requests
from flask import Flask, request
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, func, select, text

from app.accounts.models import Account
from app.accounts.service import account_for_phone
from app.cases import application
from app.cases import service as cases
from app.cases.models import Case
from app.cases.workflow import CaseStatus
from app.factory import create_app
from app.fees import checkout
from app.identity import claims
from app.kernel.db import db
from app.kernel.settings import generate_dev_secrets
from app.kernel.timeutil import local_date, utcnow
from app.people import service as people
from app.reference import load_reference_data
from app.register import service as register
from app.review import service as review
from app.staff.models import StaffRole
from app.staff.service import StaffIdentity, create_staff
from bench.bench_review import file_case, unit_number
from payments.models import LedgerEntry, PaymentEvent, PaymentOrder
from payments.service import new_out_trade_no, unbalanced_transactions
from sandbox.testing import platform_settings_for, sandbox_settings, start_sandbox

WIDTH = 58
REVIEWERS = [("registration", StaffRole.REGISTRATION_REVIEWER),
             ("housing", StaffRole.HOUSING_REVIEWER), ("tax", StaffRole.TAX_REVIEWER)]


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


class Table:
    """Rows of median, p95, rate (sequential, one thread) and the ratio to the baseline."""

    def __init__(self) -> None:
        self.rows: list[str] = []
        self.baseline: float | None = None

    def add(self, name: str, samples: list[float]) -> None:
        ordered = sorted(samples)
        median = statistics.median(ordered)
        p95 = ordered[math.ceil(len(ordered) * 0.95) - 1]  # nearest rank
        rate = len(ordered) / (sum(ordered) / 1000)
        if self.baseline is None:
            self.baseline = median
        ratio = f"{median / self.baseline:.1f}x"
        self.rows.append(f"| {name:<{WIDTH}} | {len(ordered):>5} | {median:>9.2f} "
                         f"| {p95:>8.2f} | {rate:>8.0f} | {ratio:>7} |")

    def print(self) -> None:
        print(f"| {'operation':<{WIDTH}} | {'n':>5} | {'median ms':>9} | {'p95 ms':>8} "
              f"| {'per s':>8} | {'x bare':>7} |")
        print(f"| {'-' * WIDTH} | {'-' * 5} | {'-' * 9} | {'-' * 8} | {'-' * 8} | {'-' * 7} |")
        print("\n".join(self.rows))


def bare_client() -> FlaskClient:
    """A bare Flask app: routing, a JSON body in and out, the test client. Nothing else."""
    bare = Flask(__name__)

    @bare.post("/ping")
    def ping() -> tuple[dict[str, Any], int]:
        return {"gateway": (request.get_json() or {}).get("gateway")}, 201

    return bare.test_client()


class Statements:
    """Counts the SQL statements sent while it is on (to tell what a request costs)."""

    def __init__(self) -> None:
        self.count = 0
        self.on = False

    def __call__(self, *args: Any) -> None:
        if self.on:
            self.count += 1


def assessed_case(i: int, buyer: Account, seller: Account,
                  staff: dict[str, StaffIdentity], seller_person_id: int) -> str:
    """A resale transfer filled, submitted, checked and approved by all three departments."""
    unit = cases.get_or_create_unit(unit_number(i), "示范路", Decimal("89.50"), "住宅")
    register.import_entry(unit, register.RightDetails(
        "国有建设用地使用权/房屋所有权", "存量商品房", "住宅", Decimal("89.50")),
        [register.OwnerShare(seller_person_id, "1/1")], source="bench")
    db.session.commit()
    number = file_case(i, buyer, seller)
    application.submit(buyer, number, "system")
    case = cases.get_case_for(buyer, number)
    for department, task in review.latest_tasks(case).items():
        review.approve(task.id, staff[department])
    return number


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100, help="WeChat Pay cases")
    parser.add_argument("--alipay-cases", type=int, default=25, help="Alipay cases (0: none)")
    parser.add_argument("--requests", type=int, default=1000, help="baseline requests")
    args = parser.parse_args()
    n, n_alipay = args.cases, args.alipay_cases
    running = start_sandbox(sandbox_settings())
    wechatpay, alipay = running.state.wechatpay, running.state.alipay
    wechatpay.set_auto_delivery(False)  # the bench posts the notifications itself
    table = Table()
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        config = {**generate_dev_secrets(), **platform_settings_for(running),
                  "APP_ENV": "test", "INSTANCE_DIR": tmp,
                  "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                  # Never used (automatic delivery is off); a closed port if it were.
                  "PAYMENT_NOTIFY_BASE_URL": "http://127.0.0.1:9"}
        app = create_app(config)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the sandbox's access log
        with app.app_context():
            upgrade()
            load_reference_data(local_date())
            client = app.test_client()
            login = client.post("/api/auth/wechat", json={"code": "zhangsan.bench"})
            assert login.status_code == 200, login.get_json()
            tokens = login.get_json()
            buyer = db.session.get(Account, tokens["account"]["id"])
            assert buyer is not None and buyer.wechat_openid
            seller = account_for_phone("+8613800000002", "system")
            people.bind_verified_identity(buyer, "张三", "440402198801010018", method="bench",
                                          channel="system")
            seller_person = people.bind_verified_identity(
                seller, "李四", "440402199003150029", method="bench", channel="system")
            staff = {}
            for department, role in REVIEWERS:
                user = create_staff(f"bench.{department}", department, [role]).user
                staff[department] = StaffIdentity(user.id, user.username, department, (role,))

            setup = time.perf_counter()
            numbers = [assessed_case(i, buyer, seller, staff, seller_person.id)
                       for i in range(n + n_alipay)]
            db.session.rollback()
            assessed = db.session.scalar(select(func.count()).select_from(Case).where(
                Case.status == CaseStatus.FEES_ASSESSED))
            assert assessed == n + n_alipay, assessed
            notes.append(f"setup: {n + n_alipay} cases to fees assessed in "
                         f"{time.perf_counter() - setup:.0f} s (not timed below)")
            wechat_numbers, alipay_numbers = numbers[:n], numbers[n:]

            # Fresh tokens: the setup may have outlived the first access token.
            login = client.post("/api/auth/wechat", json={"code": "zhangsan.bench.2"})
            assert login.get_json()["account"]["id"] == buyer.id, login.get_json()
            tokens = login.get_json()
            headers = {"Authorization": f"Bearer {tokens['access_token']}",
                       "X-Identity-Claim": claims.issue(buyer.id, buyer.person_id or 0,
                                                        "bench").token}

            # 1. The baseline.
            bare = bare_client()
            for _ in range(50):  # warm-up
                bare.post("/ping", json={"gateway": "wechat"})
                client.get("/api/health")
            table.add("bare Flask: POST /ping (JSON in, JSON out)",
                      [timed(lambda: bare.post("/ping", json={"gateway": "wechat"}))
                       for _ in range(args.requests)])
            table.add("GET /api/health (the app, no auth, no DB)",
                      [timed(lambda: client.get("/api/health")) for _ in range(args.requests)])

            # 2. Order creation.
            orders: dict[str, str] = {}

            def create(number: str, gateway: str) -> None:
                answer = client.post(f"/api/cases/{number}/payments",
                                     json={"gateway": gateway}, headers=headers)
                assert answer.status_code == 201, answer.get_json()
                body = answer.get_json()
                assert body["status"] == "paying", body
                if orders.setdefault(number, body["out_trade_no"]) != body["out_trade_no"]:
                    raise AssertionError(f"{number}: a second order for the same request")

            table.add("POST payments wechat: new order (unifiedorder over HTTP)",
                      [timed(partial(create, number, "wechat")) for number in wechat_numbers])
            table.add("POST payments wechat: same request again (same order)",
                      [timed(partial(create, number, "wechat")) for number in wechat_numbers])
            gateway = checkout.gateway("wechat")
            expires = utcnow() + timedelta(minutes=30)

            def unified_order() -> None:
                gateway.create_payment(
                    out_trade_no=new_out_trade_no(), amount_fen=1008000,
                    description="不动产登记税费 bench", expires_at=expires,
                    payer_openid=buyer.wechat_openid, notify_url=config[
                        "PAYMENT_NOTIFY_BASE_URL"] + "/api/payments/notify/wechat",
                    return_url=None)

            table.add("  of which: the unifiedorder call alone (gateway, HTTP)",
                      [timed(unified_order) for _ in range(n)])
            if alipay_numbers:
                table.add("POST payments alipay: new order (signed URL, no network)",
                          [timed(partial(create, number, "alipay")) for number in alipay_numbers])
                alipay_gateway = checkout.gateway("alipay")

                def cashier_url() -> None:
                    alipay_gateway.create_payment(
                        out_trade_no=new_out_trade_no(), amount_fen=1008000,
                        description="不动产登记税费 bench", expires_at=expires, payer_openid=None,
                        notify_url=config["PAYMENT_NOTIFY_BASE_URL"]
                        + "/api/payments/notify/alipay", return_url=None)

                table.add("  of which: signing the cashier URL alone (SDK, RSA2)",
                          [timed(cashier_url) for _ in range(n_alipay)])

            # 3. Notifications: the payer pays in the sandbox; its notification is posted.
            bodies = []
            for number in wechat_numbers:
                wechatpay.pay(orders[number])
                body = wechatpay.notification_for(orders[number])
                assert body is not None
                bodies.append(body)

            def notify_wechat(body: bytes) -> None:
                answer = client.post("/api/payments/notify/wechat", data=body,
                                     content_type="text/xml")
                assert answer.status_code == 200 and b"SUCCESS" in answer.data, answer.data

            statements = Statements()
            event.listen(db.engine, "before_cursor_execute", statements)
            statements.on = True
            table.add("notify wechat: first delivery (applies the payment)",
                      [timed(partial(notify_wechat, body)) for body in bodies])
            first_statements, statements.count = statements.count / n, 0
            table.add("notify wechat: repeated delivery (duplicate)",
                      [timed(partial(notify_wechat, body)) for body in bodies + bodies])
            statements.on = False
            event.remove(db.engine, "before_cursor_execute", statements)
            notes.append(f"SQL statements per WeChat Pay notification: {first_statements:.0f} "
                         f"first, {statements.count / (2 * n):.0f} repeated")
            table.add("  of which: verify the signature alone (HMAC-SHA256)",
                      [timed(partial(gateway.parse_notification, body, {}, {}))
                       for body in bodies])

            if alipay_numbers:
                forms = []
                for number in alipay_numbers:
                    out_trade_no = orders[number]
                    pay_url = db.session.scalar(select(PaymentOrder.pay_url).where(
                        PaymentOrder.out_trade_no == out_trade_no))
                    assert pay_url
                    assert requests.get(pay_url, timeout=10).status_code == 200  # the cashier
                    alipay.pay(out_trade_no, deliver=False)
                    form = alipay.notification_for(out_trade_no)
                    assert form is not None
                    forms.append(form)

                def notify_alipay(form: dict[str, str]) -> None:
                    answer = client.post("/api/payments/notify/alipay", data=form)
                    assert answer.status_code == 200 and answer.data == b"success", answer.data

                table.add("notify alipay: first delivery (applies the payment)",
                          [timed(partial(notify_alipay, form)) for form in forms])
                table.add("notify alipay: repeated delivery (duplicate)",
                          [timed(partial(notify_alipay, form)) for form in forms + forms])
                table.add("  of which: verify the signature alone (RSA2)",
                          [timed(partial(alipay_gateway.parse_notification, b"", {}, form))
                           for form in forms])

            # What one commit costs here (the payment path commits once or twice a request).
            db.session.execute(text("CREATE TABLE bench_commit (n INTEGER)"))
            db.session.commit()

            def insert_commit() -> None:
                db.session.execute(text("INSERT INTO bench_commit (n) VALUES (1)"))
                db.session.commit()

            table.add("reference: one INSERT + COMMIT (SQLite WAL)",
                      [timed(insert_commit) for _ in range(n)])

            # Every case paid once, the ledger balanced, one "applied" event per order.
            db.session.rollback()
            paid = db.session.scalar(select(func.count()).select_from(Case).where(
                Case.status == CaseStatus.PAID))
            applied = db.session.scalar(select(func.count()).select_from(PaymentEvent).where(
                PaymentEvent.outcome == "applied"))
            entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
            assert paid == applied == n + n_alipay, (paid, applied)
            assert unbalanced_transactions() == []
            notes.append(f"checked: {paid} cases paid, {applied} payments applied, "
                         f"{entries} ledger entries, every transaction balanced")
    running.stop()
    print(f"\n{n} WeChat Pay + {n_alipay} Alipay cases, SQLite, in process; "
          "the sandbox over HTTP on 127.0.0.1\n")
    table.print()
    print()
    for note in notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
