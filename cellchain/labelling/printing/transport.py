"""Sending a document to a printer: ZPL over a raw TCP socket (a Zebra's port 9100), PDF by IPP Print-Job.

IPP (RFC 8010 encoding, RFC 8011 Print-Job) is small enough to write out here: one binary request of
operation attributes followed by the document, POSTed as ``application/ipp`` to the printer's URI over
HTTP (``ipp://``) or HTTPS (``ipps://``). The PyPI IPP clients (pyipp, aioipp) are asynchronous status
readers that send no documents, so none is used. Any failure comes back as ``SendFailed`` with a message
for the job record; nothing here touches the database. ``timeout`` bounds a whole send (connect, write,
the printer's answer), not each step: a job still queued after it is no longer being sent (``queue.retry``).
"""

from __future__ import annotations

import http.client
import socket
import struct
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

RAW_PORT = 9100
IPP_PORT = 631
PRINT_JOB = 0x0002
OPERATION_ATTRIBUTES, END_OF_ATTRIBUTES = 0x01, 0x03
TAG_URI, TAG_NAME, TAG_CHARSET, TAG_LANGUAGE, TAG_MIME = 0x45, 0x42, 0x47, 0x48, 0x49


class SendFailed(Exception):
    """The printer could not be reached or refused the job; the message goes on the job record."""


@dataclass(frozen=True)
class RawAddress:
    host: str
    port: int


def split_host_port(address: str, default_port: int) -> RawAddress:
    """``host`` or ``host:port`` (an IPv6 host in brackets) as host and port; ValueError when unreadable."""
    text = address.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = text.rpartition(":") if ":" in text else (text, "", "")
    if not host or any(c.isspace() for c in host):
        raise ValueError("no host")
    port = int(port_text) if port_text else default_port
    if not 1 <= port <= 65535:
        raise ValueError("port out of range")
    return RawAddress(host, port)


def _left(deadline: float, where: str) -> float:
    """The seconds left before ``deadline`` (``time.monotonic``); SendFailed once none are."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise SendFailed(f"{where}: timed out")
    return left


def send_raw(address: str, document: bytes, *, timeout: float) -> None:
    """Write the document to ``host:port`` and close: a Zebra prints what arrives on its raw port."""
    target = split_host_port(address, RAW_PORT)
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((target.host, target.port), timeout=timeout) as connection:
            connection.settimeout(_left(deadline, f"{target.host}:{target.port}"))
            connection.sendall(document)  # bounded as a whole by the socket's timeout
            connection.shutdown(socket.SHUT_WR)
    except OSError as error:
        raise SendFailed(f"{target.host}:{target.port}: {error.strerror or error}") from None


def _attribute(tag: int, name: str, value: str) -> bytes:
    name_bytes, value_bytes = name.encode("ascii"), value.encode("utf-8")
    return (struct.pack(">BH", tag, len(name_bytes)) + name_bytes + struct.pack(">H", len(value_bytes))
            + value_bytes)


def print_job_request(printer_uri: str, *, user: str, job_name: str, document_format: str,
                      request_id: int = 1) -> bytes:
    """The IPP/1.1 Print-Job request's attribute part (the document follows it on the wire)."""
    return b"".join((
        struct.pack(">BBHI", 1, 1, PRINT_JOB, request_id),
        bytes([OPERATION_ATTRIBUTES]),
        _attribute(TAG_CHARSET, "attributes-charset", "utf-8"),
        _attribute(TAG_LANGUAGE, "attributes-natural-language", "en"),
        _attribute(TAG_URI, "printer-uri", printer_uri),
        _attribute(TAG_NAME, "requesting-user-name", user),
        _attribute(TAG_NAME, "job-name", job_name),
        _attribute(TAG_MIME, "document-format", document_format),
        bytes([END_OF_ATTRIBUTES]),
    ))


def ipp_status(response: bytes) -> int:
    """The status code of an IPP response (0x0000-0x00FF: successful)."""
    if len(response) < 8:
        raise SendFailed("the printer's answer is not an IPP response")
    return struct.unpack(">H", response[2:4])[0]


def send_ipp(printer_uri: str, document: bytes, *, user: str, job_name: str, timeout: float,
             document_format: str = "application/pdf") -> None:
    """Print-Job to an IPP printer (CUPS queue or an IPP Everywhere printer)."""
    parts = urlsplit(printer_uri)
    secure = parts.scheme in ("ipps", "https")
    if parts.scheme not in ("ipp", "ipps", "http", "https") or not parts.hostname:
        raise SendFailed(f"{printer_uri}: not an IPP printer address")
    port = parts.port or IPP_PORT
    body = print_job_request(printer_uri, user=user, job_name=job_name, document_format=document_format) + document
    factory = http.client.HTTPSConnection if secure else http.client.HTTPConnection
    connection = factory(parts.hostname, port, timeout=timeout)
    where, deadline = f"{parts.hostname}:{port}", time.monotonic() + timeout
    try:
        connection.connect()
        connection.sock.settimeout(_left(deadline, where))
        connection.request("POST", parts.path or "/", body=body, headers={"Content-Type": "application/ipp"})
        connection.sock.settimeout(_left(deadline, where))
        response = connection.getresponse()
        answer = response.read()
    except (OSError, http.client.HTTPException) as error:
        raise SendFailed(f"{where}: {getattr(error, 'strerror', None) or error}") from None
    finally:
        connection.close()
    if response.status != 200:
        raise SendFailed(f"{parts.hostname}:{port}: HTTP {response.status}")
    status = ipp_status(answer)
    if status > 0x00FF:
        raise SendFailed(f"{parts.hostname}:{port}: IPP status 0x{status:04x}")
