"""Correspondence: the e-mail record connectors produce, and how core logs it on clients."""

from core.mail.records import MailAddress, MailAttachment, MailMessage

__all__ = ["MailAddress", "MailAttachment", "MailMessage"]
