"""Outside capabilities (WeChat, SMS, data sharing, payments, e-bills, courier), built from settings
once per app.

Services and tests reach them through these accessors; tests can replace one with
``app.extensions["bdc.sms"] = …`` when they need a failing provider.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app

from app.integrations.courier import Courier, make_courier
from app.integrations.datasharing import DataSharing, make_data_sharing
from app.integrations.ebills import EBillIssuer, make_ebill_issuer
from app.integrations.registry import PopulationRegistry, make_population_registry
from app.integrations.sms import SmsSender, make_sms_sender
from app.integrations.storage import FileStorage, make_storage
from app.integrations.wechat import WeChatApi, make_wechat_api
from payments.gateways import make_gateways


def init_services(app: Flask) -> None:
    app.extensions["bdc.wechat"] = make_wechat_api(app.config)
    app.extensions["bdc.sms"] = make_sms_sender(app.config)
    app.extensions["bdc.registry"] = make_population_registry(app.config)
    app.extensions["bdc.datasharing"] = make_data_sharing(app.config)
    app.extensions["bdc.gateways"] = make_gateways(app.config)
    app.extensions["bdc.ebill_issuer"] = make_ebill_issuer(app.config)
    app.extensions["bdc.courier"] = make_courier(app.config)


def wechat_api() -> WeChatApi:
    return cast("WeChatApi", current_app.extensions["bdc.wechat"])


def sms_sender() -> SmsSender:
    return cast("SmsSender", current_app.extensions["bdc.sms"])


def population_registry() -> PopulationRegistry:
    return cast("PopulationRegistry", current_app.extensions["bdc.registry"])


def data_sharing() -> DataSharing:
    return cast("DataSharing", current_app.extensions["bdc.datasharing"])


def ebill_issuer() -> EBillIssuer:
    return cast("EBillIssuer", current_app.extensions["bdc.ebill_issuer"])


def courier() -> Courier:
    return cast("Courier", current_app.extensions["bdc.courier"])


# Where files live when the settings do not say (disk under the instance directory).
STORAGE_DEFAULTS = {"STORAGE_BACKEND": "disk", "STORAGE_DISK_ROOT": ""}


def storage() -> FileStorage:
    """The app's file storage (materials, certificates, e-bills), built once from its
    settings: disk under INSTANCE_DIR/files, or S3-compatible object storage."""
    existing: FileStorage | None = current_app.extensions.get("bdc.storage")
    if existing is None:
        config = {**STORAGE_DEFAULTS, **current_app.config}
        existing = current_app.extensions["bdc.storage"] = make_storage(config)
    return existing
