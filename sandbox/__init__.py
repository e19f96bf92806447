"""Local stand-ins for the outside services, speaking their real wire protocols.

Used by ``make run`` and the tests; never imported by production code. The vendors'
SDKs (wechatpy, tencentcloud-sdk-python) talk to it exactly as they talk to the real
hosts, signatures included; the population registry stand-in checks the data-sharing
platform's request signatures the same way. See ``sandbox/README.md``.
"""
