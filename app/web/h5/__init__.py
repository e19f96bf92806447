"""Mobile web pages (H5) for citizens who arrive by SMS: ``/m/…`` and the short links
``/s/<code>``. Server-rendered, Simplified Chinese, phone-first, no JavaScript needed.

- ``session``: the citizen's own signed cookie (``bdc_h5``), login and short-link grants;
- ``views``: login by one-time code, the short links, my cases and a case's progress;
- templates in ``app/web/templates/h5/`` (every page extends ``h5/layout.html``, which
  carries the large-font switch), styles in ``app/web/static/h5/h5.css``.

See docs/mobile-web.md.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask

WEB_DIR = Path(__file__).resolve().parent.parent

bp = Blueprint(
    "h5",
    __name__,
    template_folder=str(WEB_DIR / "templates"),
    static_folder=str(WEB_DIR / "static" / "h5"),
    static_url_path="/m/static",
    cli_group="links",
)


def init_h5(app: Flask) -> None:
    """The citizen cookie and the pages (called by create_app)."""
    from app.web.h5 import session

    session.install(app)
    app.register_blueprint(bp)


# Routes and commands on this blueprint.
from app.web.h5 import bills, case_page, certificates, cli, fresh, pay, views  # noqa: E402,F401
