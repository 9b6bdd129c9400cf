"""修了証: issuing, recording and verifying certificates.

A certificate id is `SERIAL-SIGNATURE`: a random serial, and an HMAC (with the
server secret BOT_SECRET) over the serial and what the certificate says. The
record is kept in Redis under the serial, with the SHA-256 of the issued PNG.
So an invented id is unknown, an id or record changed after issue fails the
signature, a PNG changed after issue fails the hash, and a revoked one says so.
When its holder deletes their data (「データ削除」), the record and the PNG are erased and
only the serial is kept, marked erased: the id then verifies as revoked, naming nobody.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from bot.flows.learning.certificate_image import certificate_id_in
from bot.store.conversations import StoreOp
from bot.store.keys import Keys

SERIAL_BYTES = 8


class Status(Enum):
    VALID = "valid"
    UNKNOWN = "unknown"
    ALTERED = "altered"
    REVOKED = "revoked"


@dataclass(frozen=True)
class CertificateRecord:
    serial: str
    holder: str
    theme: str
    item: int  # checklist item of the theme; 0 for the whole course
    issued_on: str  # ISO date, JST
    organisation: str
    conversation: str  # whose conversation earned it (platform:workspace:user)
    signature: str
    png_sha256: str = ""
    revoked: bool = False

    @property
    def id(self) -> str:
        return f"{self.serial}-{self.signature}"


@dataclass(frozen=True)
class Verdict:
    status: Status
    record: CertificateRecord | None = None


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def load_or_create_secret(path: Path) -> bytes:
    """A per-machine secret for the local chat (the server needs BOT_SECRET instead)."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    path.touch(mode=0o600)
    path.write_bytes(secret)
    return secret


RESOURCE = "certificates"


def certificates_of(conv: Any) -> "Certificates | None":
    """The certificate signer built at start-up; None when no secret is configured."""
    return conv.services.resources.get(RESOURCE)


class Certificates:
    def __init__(self, client: aioredis.Redis, keys: Keys, *, secret: bytes, public_url: str | None):
        if len(secret) < 16:
            raise ValueError("the certificate secret must be at least 16 bytes")
        self.client = client
        self.keys = keys
        self._secret = secret
        self.public_url = public_url.rstrip("/") if public_url else None

    def _sign(self, serial: str, holder: str, theme: str, item: int, issued_on: str, organisation: str) -> str:
        message = json.dumps([serial, holder, theme, item, issued_on, organisation], ensure_ascii=False)
        return _b32(hmac.new(self._secret, message.encode(), hashlib.sha256).digest())[:20]

    def new_record(self, *, holder: str, theme: str, item: int, issued_on: str, organisation: str,
                   conversation: str) -> CertificateRecord:
        serial = _b32(secrets.token_bytes(SERIAL_BYTES))
        signature = self._sign(serial, holder, theme, item, issued_on, organisation)
        return CertificateRecord(serial=serial, holder=holder, theme=theme, item=item, issued_on=issued_on,
                                 organisation=organisation, conversation=conversation, signature=signature)

    def url(self, certificate_id: str) -> str | None:
        return f"{self.public_url}/certificates/{certificate_id}" if self.public_url else None

    def record_op(self, record: CertificateRecord, png: bytes, *, holder: Any = None) -> tuple[StoreOp, ...]:
        """The writes that record an issued certificate (committed with the conversation); with
        `holder` (the ConversationKey that earned it), also listed among that person's certificates."""
        final = CertificateRecord(**{**asdict(record), "png_sha256": hashlib.sha256(png).hexdigest()})
        key = self.keys.certificate(record.serial)
        ops = (StoreOp("HSET", key, ("record", json.dumps(asdict(final), ensure_ascii=False), "png", png)),)
        if holder is not None:
            ops += (StoreOp("SADD", self.keys.certificates_of(holder), (record.serial,)),)
        return ops

    def erase_ops(self, serial: str) -> tuple[StoreOp, ...]:
        """Forget what a certificate says and its image; its id then verifies as revoked."""
        key = self.keys.certificate(serial)
        return (StoreOp("DEL", key),
                StoreOp("HSET", key, ("record", json.dumps({"serial": serial, "erased": True}))))

    async def _raw(self, serial: str) -> dict | None:
        raw = await self.client.hget(self.keys.certificate(serial), "record")
        return json.loads(raw) if raw else None

    async def load(self, serial: str) -> CertificateRecord | None:
        data = await self._raw(serial)
        return CertificateRecord(**data) if data and not data.get("erased") else None

    async def png(self, serial: str) -> bytes | None:
        return await self.client.hget(self.keys.certificate(serial), "png")

    async def verify_id(self, certificate_id: str) -> Verdict:
        serial, _, signature = certificate_id.strip().partition("-")
        if not serial or not signature or not serial.isalnum():
            return Verdict(Status.UNKNOWN)
        data = await self._raw(serial)
        if data is None:
            return Verdict(Status.UNKNOWN)
        if data.get("erased"):  # its holder deleted their data
            return Verdict(Status.REVOKED)
        record = CertificateRecord(**data)
        expected = self._sign(record.serial, record.holder, record.theme, record.item, record.issued_on,
                              record.organisation)
        if not (hmac.compare_digest(expected, signature) and hmac.compare_digest(expected, record.signature)):
            return Verdict(Status.ALTERED, record)
        if record.revoked:
            return Verdict(Status.REVOKED, record)
        return Verdict(Status.VALID, record)

    async def verify_png(self, png: bytes) -> Verdict:
        certificate_id = certificate_id_in(png)
        if certificate_id is None:
            return Verdict(Status.UNKNOWN)
        verdict = await self.verify_id(certificate_id)
        if verdict.status is Status.VALID and hashlib.sha256(png).hexdigest() != verdict.record.png_sha256:
            return Verdict(Status.ALTERED, verdict.record)
        return verdict

    async def revoke(self, certificate_id: str) -> bool:
        verdict = await self.verify_id(certificate_id)
        if verdict.record is None or verdict.status is Status.ALTERED:
            return False
        revoked = CertificateRecord(**{**asdict(verdict.record), "revoked": True})
        await self.client.hset(self.keys.certificate(revoked.serial), "record",
                               json.dumps(asdict(revoked), ensure_ascii=False))
        return True
