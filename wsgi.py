"""WSGI entry point: ``gunicorn --preload wsgi:app``.

With the local face provider the face models (~150 MB) are loaded here, once, before
gunicorn forks its workers (``--preload``), instead of on a citizen's first request.
"""

from app.factory import create_app

app = create_app()

if app.config["KYC_PROVIDER"] == "local":
    from kyc.engine import get_engine

    get_engine()
