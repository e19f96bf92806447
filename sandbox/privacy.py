"""Masking for what the sandbox shows and logs: names and ID numbers are personal data.

The same rules as the platform's (``app.validators``), kept here so that the sandbox
never imports production code: ``张三`` → ``张*``, ``欧阳娜娜`` → ``欧**娜``,
``440402198801010018`` → ``4404**********0018``.
"""

from __future__ import annotations


def mask_name(name: str) -> str:
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(number: str) -> str:
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
