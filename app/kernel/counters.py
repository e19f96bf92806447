"""Named counters incremented atomically in the database (case numbers, later certificates).

``INSERT … ON CONFLICT DO UPDATE … RETURNING`` is one statement on SQLite (3.35+) and
PostgreSQL: two transactions cannot read the same value, and the value is only
consumed if the caller's transaction commits, so serials have no gaps.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db import Model, db, upsert_statement


class Counter(Model):
    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


def next_value(name: str) -> int:
    table = Counter.__table__
    stmt = upsert_statement(db.session.get_bind().dialect.name, table).values(name=name, value=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.name], set_={"value": table.c.value + 1}
    ).returning(table.c.value)
    return int(db.session.execute(stmt).scalar_one())
