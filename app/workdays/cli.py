"""``flask calendar …``: the override table of the working-day calendar.

    flask calendar set 2027-01-01 --holiday --note 元旦
    flask calendar set 2027-02-20 --workday --note 春节调休上班
    flask calendar unset 2027-01-01
    flask calendar show 2027-01
"""

from __future__ import annotations

import getpass
import re
from datetime import date
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from app.kernel.audit import Channel
from app.kernel.errors import DomainError, ValidationFailed
from app.workdays import service
from app.workdays.service import DaySource

calendar_cli = AppGroup("calendar", help="工作日历：法定节假日、调休上班日的人工设置。")

SOURCE_LABELS = {
    DaySource.LIBRARY: "chinese_calendar 法定日历",
    DaySource.OVERRIDE: "人工设置",
    DaySource.WEEKDAY_RULE: "周一至周五规则",
}


def register_cli(app: Flask) -> None:
    app.cli.add_command(calendar_cli)


class _DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: Any, ctx: Any) -> date:
        if isinstance(value, date):
            return value
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
                raise ValueError
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"日期无效：{value}（格式 YYYY-MM-DD，如 2027-01-01）", param, ctx)


class _MonthType(click.ParamType):
    name = "YYYY-MM"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[int, int]:
        match = re.fullmatch(r"(\d{4})-(\d{2})", str(value))
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
            self.fail(f"月份无效：{value}（格式 YYYY-MM，如 2027-01）", param, ctx)
        return int(match.group(1)), int(match.group(2))


def _default_operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"[: service.NOTE_MAX_LENGTH]
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


def _fail(error: DomainError) -> click.ClickException:
    message = error.message
    if isinstance(error, ValidationFailed):
        message = "；".join(r for rs in error.details["fields"].values() for r in rs) or message
    return click.ClickException(message)


def _kind(is_workday: bool) -> str:
    return "工作日" if is_workday else "休息日"


def _describe(info: service.DayInfo) -> str:
    note = f"（{info.note}）" if info.note else ""
    return f"{_kind(info.is_workday)}{note}，来源：{SOURCE_LABELS[info.source]}"


@calendar_cli.command("set")
@click.argument("day", type=_DateType())
@click.option("--holiday", "kind", flag_value="holiday", help="设为休息日（节假日）")
@click.option("--workday", "kind", flag_value="workday", help="设为工作日（如调休上班）")
@click.option("--note", default="", help="备注，如“元旦”“春节调休上班”（不超过 60 字）")
@click.option("--by", "updated_by", default=None, help="操作人（默认 cli:<系统用户名>）")
def set_day(day: date, kind: str | None, note: str, updated_by: str | None) -> None:
    """把某一天设为休息日（--holiday）或工作日（--workday），优先于法定日历。"""
    if kind is None:
        raise click.UsageError("请指定 --holiday（休息日）或 --workday（工作日）")
    is_workday = kind == "workday"
    try:
        service.set_override(
            day, is_workday=is_workday, note=note,
            updated_by=updated_by or _default_operator(), channel=Channel.CLI,
        )
    except DomainError as error:
        raise _fail(error) from None
    weekday = service.WEEKDAY_NAMES[day.weekday()]
    click.echo(f"已设置：{day.isoformat()}（{weekday}）为{_kind(is_workday)}"
               + (f"，备注：{note.strip()}" if note.strip() else ""))
    if not service.library_covers(day.year):
        click.echo(f"注意：{day.year} 年不在 chinese_calendar 覆盖范围内，"
                   "该年其余日期按周一至周五计算，请录入该年全部节假日和调休上班日。")


@calendar_cli.command("unset")
@click.argument("day", type=_DateType())
@click.option("--by", "updated_by", default=None, help="操作人（默认 cli:<系统用户名>）")
def unset_day(day: date, updated_by: str | None) -> None:
    """取消某一天的人工设置，恢复法定日历（或周一至周五规则）。"""
    try:
        removed = service.remove_override(
            day, updated_by=updated_by or _default_operator(), channel=Channel.CLI,
        )
    except DomainError as error:
        raise _fail(error) from None
    if not removed:
        click.echo(f"{day.isoformat()} 没有人工设置，无需取消。")
        return
    click.echo(f"已取消 {day.isoformat()} 的人工设置，现为：{_describe(service.day_info(day))}")


@calendar_cli.command("show")
@click.argument("month", type=_MonthType())
def show_month(month: tuple[int, int]) -> None:
    """列出某月每一天：日期、星期、工作日/休息日、来源、备注。"""
    year, number = month
    days = service.month_days(year, number)
    click.echo(f"{year} 年 {number} 月（工作日 {sum(d.is_workday for d in days)} 天）")
    click.echo("来源：library = chinese_calendar 法定日历；override = 人工设置；"
               "weekday-rule = 周一至周五规则")
    if not service.library_covers(year):
        click.echo(f"注意：{year} 年不在 chinese_calendar 覆盖范围内，"
                   "未人工设置的日期按周一至周五计算。")
    for info in days:
        line = f"{info.day.isoformat()}  {info.weekday_name}  {_kind(info.is_workday)}  " \
               f"{info.source.value:<12}  {info.note}"
        click.echo(line.rstrip())
