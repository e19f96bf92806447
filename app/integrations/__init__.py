"""Clients for outside capabilities, one interface each, one class per vendor.

``wechat`` (WeChat server API, face verification included), ``sms`` (text messages)
and ``registry`` (population registry real-name check). Each module defines a
``Protocol`` that the core depends on, the vendor implementation (built on the vendor's
own SDK where there is one), and a ``make_*`` factory that picks the implementation from
settings. In development and tests the same code talks to ``sandbox/`` on 127.0.0.1.
"""
