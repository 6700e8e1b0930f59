"""Two-factor sign-in: a TOTP authenticator (RFC 6238) with one-time recovery codes.

The TOTP secret is stored encrypted (Fernet: AES-128-CBC with HMAC-SHA256) under a key derived
from SECRET_KEY, so a copy of the database alone cannot mint codes; keys derived from
SECRET_KEY_FALLBACKS still decrypt, so the secret key can be rotated. Recovery codes (50 random
bits each) are stored as an HMAC-SHA256 keyed the same way. A code is accepted once: the newest
accepted time step is kept per member and moved forward by a conditional UPDATE, so a replayed
code is refused even when two processes check it at the same moment.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from ..clock import utcnow
from ..errors import Conflict, DomainError
from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..tokens import digest
from . import throttle
from .models import Member, RecoveryCode, TwoFactor

ISSUER = "Referral Hub"
RECOVERY_CODES = 10
# Crockford's base32 without I, L, O and U: nothing to misread when typing a code from paper.
RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECOVERY_LENGTH = 10  # 50 random bits, shown as XXXXX-XXXXX
VALID_WINDOW = 1  # the step before and the step after the current one are accepted too (clock drift)


class WrongCode(DomainError):
    message = _l(
        "That code is not right. Type the 6 digits your authenticator app shows now, or a recovery code."
    )

    status = 401
    code = "wrong_code"


class CodeAlreadyUsed(WrongCode):
    message = _l("That code has been used already. Wait for your app to show the next one.")


class CodeThrottled(DomainError):
    message = _l("Too many wrong codes for this account. Wait a few minutes and try again.")

    status = 429
    code = "code_throttled"


class TwoFactorAlreadyOn(Conflict):
    message = _l("Two-factor sign-in is already on for your account.")


class TwoFactorOff(Conflict):
    message = _l("Two-factor sign-in is not on for your account.")


def _keys(purpose: str) -> list[bytes]:
    """32-byte keys for `purpose`, from SECRET_KEY first and then each of SECRET_KEY_FALLBACKS."""
    config = current_app.config
    secrets_in_use = [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or ())]
    return [
        hmac.new(str(secret).encode(), f"referral-hub {purpose}".encode(), hashlib.sha256).digest()
        for secret in secrets_in_use
    ]


def _cipher() -> MultiFernet:
    return MultiFernet([Fernet(base64.urlsafe_b64encode(key)) for key in _keys("two-factor secret")])


def _secret_of(row: TwoFactor) -> str:
    try:
        return _cipher().decrypt(row.secret_encrypted).decode()
    except InvalidToken as error:  # SECRET_KEY changed with the old one not kept as a fallback
        raise DomainError(
            _(
                "Your two-factor secret can no longer be read. Use a recovery code, then set two-factor "
                "up again."
            )
        ) from error


def _recovery_hashes(code: str) -> list[str]:
    typed = "".join(char for char in code.upper() if char.isalnum())
    return [hmac.new(key, typed.encode(), hashlib.sha256).hexdigest() for key in _keys("recovery code")]


def state_of(member: Member) -> TwoFactor | None:
    return db.session.get(TwoFactor, member.id)


def is_on(member: Member) -> bool:
    row = state_of(member)
    return row is not None and row.is_on


def begin_setup(member: Member, *, now: datetime | None = None) -> TwoFactor:
    """A new secret waiting for its first code; it replaces one that was never confirmed."""
    row = state_of(member)
    if row is not None and row.is_on:
        raise TwoFactorAlreadyOn()
    encrypted = _cipher().encrypt(pyotp.random_base32().encode())
    if row is None:
        row = TwoFactor(member_id=member.id)
        db.session.add(row)
    row.secret_encrypted, row.created_at, row.last_used_step = encrypted, now or utcnow(), None
    db.session.flush()
    return row


def provisioning(member: Member, row: TwoFactor) -> tuple[str, str]:
    """The secret (base32, for typing) and its otpauth:// URI (for the QR code)."""
    secret = _secret_of(row)
    return secret, pyotp.TOTP(secret).provisioning_uri(name=member.email, issuer_name=ISSUER)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code `code` is, within VALID_WINDOW of now; None if none."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(member_id: int, step: int) -> None:
    """Record `step` as used; CodeAlreadyUsed when it, or a later one, was used before.

    A conditional UPDATE: of two requests with one code, in one process or two, exactly one moves it.
    """
    moved = db.session.execute(
        update(TwoFactor)
        .where(
            TwoFactor.member_id == member_id,
            or_(TwoFactor.last_used_step.is_(None), TwoFactor.last_used_step < step),
        )
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise CodeAlreadyUsed()


def _use_recovery_code(member_id: int, code: str, now: datetime) -> None:
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.member_id == member_id,
            RecoveryCode.code_hash.in_(_recovery_hashes(code)),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise WrongCode()


def _digits(code: str) -> str:
    return "".join((code or "").split())


def check_code(member: Member, code: str, *, now: datetime | None = None) -> None:
    """Accept a current authenticator code or an unused recovery code, once; WrongCode if neither."""
    now = now or utcnow()
    row = state_of(member)
    if row is None or not row.is_on:
        raise TwoFactorOff()
    typed = _digits(code)
    if len(typed) == 6 and typed.isdigit():
        step = _matching_step(_secret_of(row), typed, now)
        if step is None:
            raise WrongCode()
        _use_step(member.id, step)
    else:
        _use_recovery_code(member.id, code or "", now)
    db.session.flush()


def _new_recovery_codes(member: Member, now: datetime) -> list[str]:
    """Replace the member's recovery codes with RECOVERY_CODES fresh ones, returned for showing once."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
    codes = []
    for _code in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _char in range(RECOVERY_LENGTH))
        db.session.add(RecoveryCode(member_id=member.id, code_hash=_recovery_hashes(raw)[0], created_at=now))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    db.session.flush()
    return codes


def confirm_setup(member: Member, code: str, *, now: datetime | None = None) -> list[str]:
    """Turn two-factor on with a first code from the new secret; return the recovery codes (shown once)."""
    now = now or utcnow()
    row = state_of(member)
    if row is None:
        raise DomainError(_("Start the set-up first: the secret to add to your app comes with it."))
    if row.is_on:
        raise TwoFactorAlreadyOn()
    typed = _digits(code)
    step = _matching_step(_secret_of(row), typed, now) if typed.isdigit() else None
    if step is None:
        raise WrongCode(_("That code is not right. Type the 6 digits your authenticator app shows now."))
    _use_step(member.id, step)
    row.confirmed_at = now
    return _new_recovery_codes(member, now)


def turn_off(member: Member, code: str, *, address: str, now: datetime | None = None) -> None:
    """Turn two-factor off: it takes a current code or a recovery code, counted like `second_step`'s."""
    check_code_counted(member, code, address=address, now=now)
    forget(member)


def forget(member: Member) -> None:
    """The member's two-factor secret and recovery codes are deleted (turned off, or the account erased)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
    db.session.execute(delete(TwoFactor).where(TwoFactor.member_id == member.id))
    db.session.flush()


def recovery_codes_left(member: Member) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.member_id == member.id, RecoveryCode.used_at.is_(None))
    )


def check_code_counted(member: Member, code: str, *, address: str, now: datetime | None) -> None:
    """`check_code`, with wrong codes counted per account like wrong passwords (`throttle`)."""
    key = digest(f"two-factor:{member.id}")
    if throttle.held_back(key, address):
        raise CodeThrottled()
    try:
        check_code(member, code, now=now)
    except WrongCode:
        throttle.record_failure(key, address)
        raise


def second_step(member: Member, code: str, *, address: str, now: datetime | None = None) -> Member:
    """The code that completes a sign-in after the right password (or a sign-in link)."""
    check_code_counted(member, code, address=address, now=now)
    return member
