"""Correspondence: the e-mail record connectors produce, and how core logs it on clients.

``records`` holds the change records; ``matching`` says which clients a message belongs to;
``store`` is the applier that logs mail on them (imported by the applier registry, not here,
since it pulls in the work services); ``stored`` keeps the stored copies, each with its raw message
packed by ``rawcopy``; ``suggestions`` is the suggested-contact queue.
"""

from core.mail.records import MailAddress, MailAttachment, MailMessage

__all__ = ["MailAddress", "MailAttachment", "MailMessage"]
