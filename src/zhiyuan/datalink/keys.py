"""Where each side's data-link keys come from: an environment variable, or a file (never logged).

The district signs with its private key and checks the city's messages with the city's public key;
the reference city system (citysim) holds the mirror pair. Each key is read from, in order:
1. the variable NAME itself (PEM, or base64 of the 32 raw bytes), e.g. ZHIYUAN_DATALINK_PRIVATE_KEY;
2. the file named by NAME_FILE, e.g. ZHIYUAN_DATALINK_PRIVATE_KEY_FILE;
3. the default file in ZHIYUAN_DATALINK_KEY_DIR (var/datalink/ unless set): district.key,
   district.pub, city.key, city.pub, as written by `zhiyuan datalink keygen`.
"""

import os
from functools import cache
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from zhiyuan.datalink.protocol import generate_keypair, load_private_key, load_public_key

KEY_FILES = {
    "ZHIYUAN_DATALINK_PRIVATE_KEY": "district.key",
    "ZHIYUAN_DATALINK_CITY_PUBLIC_KEY": "city.pub",
    "ZHIYUAN_CITYSIM_PRIVATE_KEY": "city.key",
    "ZHIYUAN_CITYSIM_DISTRICT_PUBLIC_KEY": "district.pub",
}


def key_dir() -> Path:
    return Path(settings.ZHIYUAN_DATALINK_KEY_DIR)


def _material(name: str) -> bytes:
    value = os.environ.get(name, "").strip()
    if value:
        return value.encode()
    path = Path(os.environ.get(f"{name}_FILE", "") or key_dir() / KEY_FILES[name])
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImproperlyConfigured(
            f"No data-link key: set {name} or {name}_FILE, or create {path} with `zhiyuan datalink keygen`."
        ) from None


def _load(name: str, loader):
    try:
        return loader(_material(name))
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        # The message names the variable, never the key material.
        raise ImproperlyConfigured(f"The data-link key {name} is not a valid Ed25519 key ({error}).") from None


@cache
def district_private_key() -> Ed25519PrivateKey:
    return _load("ZHIYUAN_DATALINK_PRIVATE_KEY", load_private_key)


@cache
def city_public_key() -> Ed25519PublicKey:
    return _load("ZHIYUAN_DATALINK_CITY_PUBLIC_KEY", load_public_key)


@cache
def citysim_private_key() -> Ed25519PrivateKey:
    return _load("ZHIYUAN_CITYSIM_PRIVATE_KEY", load_private_key)


@cache
def citysim_district_public_key() -> Ed25519PublicKey:
    return _load("ZHIYUAN_CITYSIM_DISTRICT_PUBLIC_KEY", load_public_key)


def clear_key_cache() -> None:
    """Forget loaded keys (after keygen, or in tests that switch keys)."""
    for loader in (district_private_key, city_public_key, citysim_private_key, citysim_district_public_key):
        loader.cache_clear()


def write_keypair(directory: Path, name: str, *, force: bool = False) -> tuple[Path, Path] | None:
    """Write NAME.key (mode 0600) and NAME.pub into `directory`; None when they exist and not `force`."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path, public_path = directory / f"{name}.key", directory / f"{name}.pub"
    if private_path.exists() and not force:
        return None
    private_pem, public_pem = generate_keypair()
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    os.chmod(private_path, 0o600)
    public_path.write_bytes(public_pem)
    clear_key_cache()
    return private_path, public_path
