"""Do the configured keys open the stored OTP secrets? Asked at start-up, by
`otp check-keys` and by /readyz, so that lost or wrong keys are found before sign-ins fail.

Recovery codes and temporary codes are kept as keyed digests, which no key can be
checked against without the code itself; only the encrypted device secrets tell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from extensions import db
from models import OtpDevice
from security import keys
from security.secret_box import SecretBox

# At start-up and for /readyz: enough to tell "the keys are wrong" from "one damaged
# row", and cheap (each decryption costs microseconds).
START_SAMPLE = 20


@dataclass
class KeyCheck:
    """How many of the checked secrets each key opens (position 1 is the newest key)."""

    devices: int
    checked: int = 0
    opened_by: list[int] = field(default_factory=list)
    unreadable: int = 0

    @property
    def opened(self) -> int:
        return sum(self.opened_by)

    @property
    def keys_are_wrong(self) -> bool:
        """Devices exist and not one checked secret opens: every sign-in would fail."""
        return self.devices > 0 and self.checked > 0 and self.opened == 0


def check_keys(
    *, sample: int | None = None, box: SecretBox | None = None, count_devices: bool = True
) -> KeyCheck:
    """Try the keys on the newest `sample` secrets (None: on every stored secret).

    :param count_devices: False spares the count of all devices (a probe that only asks
        whether the keys open anything); `devices` is then the number checked.
    """
    box = box or keys.secret_box()
    devices = (
        int(db.session.scalar(select(func.count()).select_from(OtpDevice)) or 0)
        if count_devices
        else 0
    )
    result = KeyCheck(devices=devices, opened_by=[0] * box.key_count)
    if count_devices and devices == 0:
        return result
    query = select(OtpDevice.secret_encrypted).order_by(OtpDevice.id.desc())
    if sample is not None:
        query = query.limit(sample)
    for token in db.session.scalars(query.execution_options(yield_per=1000)):
        result.checked += 1
        position = box.key_position(token)
        if position is None:
            result.unreadable += 1
        else:
            result.opened_by[position - 1] += 1
    if not count_devices:
        result.devices = result.checked
    return result


def refusal_line(check: KeyCheck, source: str) -> str:
    """The one line that stops the console when its keys open none of the secrets.

    :param source: where the keys came from: the keys file's path or the variable's name.
    """
    if source.startswith("FLASK_"):
        remedy = f"set {source} to the keys the secrets were encrypted with (see the backup)"
    else:
        remedy = (
            "put back that file from the backup, or set FLASK_OTP_ENCRYPTION_KEYS "
            "to the keys the secrets were encrypted with"
        )
    return (
        f"console: the OTP encryption keys in {source} are wrong: they open none of the "
        f"{check.checked} stored secrets checked ({check.devices} devices), so every "
        f"sign-in with a device would fail; {remedy}"
    )
