"""Sending e-mail. Without FOREVER_SMTP_HOST each message is written as an .eml file into the outbox folder
(`<data dir>/outbox`), which a developer opens in any mail client; with it, the message goes to that server."""

from __future__ import annotations

import asyncio
import logging
import os
import smtplib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from email.utils import format_datetime, make_msgid
from pathlib import Path

from forever import clock
from forever.settings import Settings, get_settings

log = logging.getLogger("forever.notify")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


def compose(settings: Settings, to: str, subject: str, text: str,
            attachments: Sequence[Attachment] = ()) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(domain="forever.amiparis.com")
    message.set_content(text)
    for attachment in attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=attachment.filename)
    return message


def _write(message: EmailMessage, outbox: Path) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{clock.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
    partial = path.with_suffix(".part")
    partial.write_bytes(message.as_bytes())
    os.replace(partial, path)  # a reader of the folder never sees half a message
    return path


def _deliver(message: EmailMessage, host: str, port: int) -> None:
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        smtp.send_message(message)


async def send(to: str, subject: str, text: str, attachments: Sequence[Attachment] = ()) -> str:
    """Send a plain-text message (with attachments); returns its Message-ID."""
    settings = get_settings()
    message = compose(settings, to, subject, text, attachments)
    if settings.smtp_host:
        await asyncio.to_thread(_deliver, message, settings.smtp_host, settings.smtp_port)
    else:
        await asyncio.to_thread(_write, message, settings.outbox_dir)
    log.info("mail %s sent: %s", message["Message-ID"], subject)
    return str(message["Message-ID"])


def _remove_mail_to(outbox: Path, address: str) -> int:
    removed = 0
    parser = BytesHeaderParser()
    for path in outbox.glob("*.eml"):
        with path.open("rb") as message:
            to = parseaddr(str(parser.parse(message).get("To", "")))[1]
        if to.lower() == address.lower():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


async def forget_recipient(address: str) -> int:
    """Delete the outbox folder's messages to `address` (its owner's data is being erased); returns how many.
    Mail handed to an SMTP server is beyond reach: nothing is kept of it here."""
    outbox = get_settings().outbox_dir
    if not outbox.is_dir():
        return 0
    return await asyncio.to_thread(_remove_mail_to, outbox, address)
