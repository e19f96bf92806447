"""Payment gateways behind one interface (see base.py): WeChat Pay, Alipay."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from payments.gateways.base import Gateway


def make_gateways(config: Mapping[str, Any]) -> dict[str, Gateway]:
    """The gateways configured in ``config`` (a gateway without credentials is left out)."""
    gateways: dict[str, Gateway] = {}
    if config.get("WECHATPAY_MCH_ID") and config.get("WECHATPAY_API_KEY"):
        from payments.gateways.wechat import make_wechatpay_gateway

        gateways["wechat"] = make_wechatpay_gateway(config)
    if config.get("ALIPAY_APP_ID") and config.get("ALIPAY_APP_PRIVATE_KEY"):
        from payments.gateways.alipay import AlipayGateway

        gateways["alipay"] = AlipayGateway(
            config["ALIPAY_APP_ID"], config["ALIPAY_APP_PRIVATE_KEY"],
            config["ALIPAY_PUBLIC_KEY"], config["ALIPAY_SERVER_URL"],
            config["ALIPAY_SELLER_ID"],
            timeout=float(config.get("ALIPAY_TIMEOUT_SECONDS") or 5))
    return gateways
