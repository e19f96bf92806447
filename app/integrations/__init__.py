"""Clients for outside capabilities, one interface each, one class per vendor.

``wechat`` (WeChat server API) and ``sms`` (text messages). Each module defines a
``Protocol`` that the core depends on, the vendor implementation built on the vendor's
own SDK, and a ``make_*`` factory that picks the implementation from settings. In
development and tests the same SDK code talks to ``sandbox/`` on 127.0.0.1.
"""
