"""Page arithmetic for the admin lists (audit log, certificates)."""

from __future__ import annotations


class PageNumbers:
    """For a dataclass with ``total``, ``page`` (from 1) and ``per_page``."""

    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages
