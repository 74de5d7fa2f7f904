"""Uploaded files: the one type/size check and SHA-256 digest every attachment service uses."""

import hashlib

from django.utils.translation import gettext as _

from zhiyuan.core.errors import ValidationFailed

# Documents and photos accepted as attachments (projects, service requests).
ATTACHMENT_TYPES = frozenset({".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx"})


def file_extension(name: str) -> str:
    """The lower-cased extension of `name` with its dot ("" when there is none)."""
    return ("." + name.rsplit(".", 1)[-1].lower()) if "." in (name or "") else ""


def check_and_hash_upload(uploaded_file, *, allowed, max_bytes: int, field: str = "file") -> str:
    """Check an upload's type (by extension) and size; return its SHA-256 in hex.

    Raises ValidationFailed on `field` naming the accepted types or the size limit. The file is
    rewound afterwards so it can be saved.
    """
    extension = file_extension(uploaded_file.name or "")
    if extension not in allowed:
        raise ValidationFailed(
            _("Files of this type are not accepted; use one of: %(types)s.") % {"types": ", ".join(sorted(allowed))},
            field=field,
        )
    if uploaded_file.size > max_bytes:
        raise ValidationFailed(
            _("The file is larger than %(mb)s MB.") % {"mb": max_bytes // (1024 * 1024)},
            field=field,
        )
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    return digest.hexdigest()
