"""Working days on the official Chinese calendar, for review time limits.

``service`` answers whether a day is a working day (an override row, else the
chinese_calendar library, else Monday–Friday) and computes deadlines and review
clocks; ``cli`` is ``flask calendar …`` for staff who maintain the override table.
See docs/workdays.md.
"""
