"""Signed short links (``/s/<code>``): one purpose, one target, one person, an expiry.

See ``app.links.service`` and docs/mobile-web.md.
"""
