"""The helpdesk's actions on notices (消息): ONE transaction each; the worker sends."""

from __future__ import annotations

from app.kernel import audit
from app.kernel.audit import ActorType, Channel
from app.kernel.db import db
from app.kernel.wakeup import nudge
from app.notifications import service as notifications
from app.notifications.models import OutboxMessage


def resend_notice(message_id: int, staff_id: int) -> OutboxMessage:
    """Put a failed message back in the queue, audited; the worker sends it on its next
    pass (quiet hours and the daily cap apply), woken at once."""
    message, before = notifications.requeue_failed(message_id, staff_id)
    audit.record(actor_type=ActorType.STAFF, actor_id=staff_id, channel=Channel.ADMIN,
                 action="notification.resent", entity_type="outbox_message",
                 entity_id=message.id, before=before,
                 after={"status": message.status, "template": message.template,
                        "channel": message.channel})
    db.session.commit()
    nudge()
    return message
