"""Uploads waiting for confirmation. An import is checked (a dry run) when its file is uploaded and
written only when the user confirms the preview; meanwhile the file is kept in the default storage
under an unguessable token that only the uploader's session knows. Each kind of import keeps one
pending upload per user, and files nobody confirmed within a day are swept away."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from typing import IO, Any

from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse
from django.utils import timezone

from zhiyuan.core.errors import DomainError

STALE_AFTER = dt.timedelta(days=1)


class PendingUploads:
    """The pending uploads of one kind of import (`session_key`, kept under `directory`) for the
    user of `request`."""

    def __init__(self, request, *, session_key: str, directory: str) -> None:
        self.session = request.session
        self.session_key = session_key
        self.directory = directory

    def _pending(self) -> dict[str, dict[str, Any]]:
        return dict(self.session.get(self.session_key) or {})

    def store(self, uploaded, **details: Any) -> str:
        """Keep `uploaded` (with `details` such as the year it is for) and return its token; replaces
        the user's previous pending upload of this kind."""
        for token in list(self._pending()):
            self.forget(token)
        self._sweep_stale()
        token = secrets.token_urlsafe(16)
        uploaded.seek(0)
        path = default_storage.save(f"{self.directory}/{token}.xlsx", uploaded)
        pending = self._pending()
        pending[token] = {"path": path, "name": uploaded.name[:255], **details}
        self.session[self.session_key] = pending
        return token

    def get(self, token: str) -> dict[str, Any]:
        """The pending upload's entry (path, name, details); 404 when this session has no such token."""
        entry = self._pending().get(token)
        if entry is None:
            raise Http404
        return entry

    def open(self, entry: dict[str, Any]) -> IO[bytes]:
        return default_storage.open(entry["path"], "rb")

    def forget(self, token: str) -> None:
        """Drop a pending upload and delete its file (after it was confirmed or discarded)."""
        pending = self._pending()
        entry = pending.pop(token, None)
        if entry and default_storage.exists(entry["path"]):
            default_storage.delete(entry["path"])
        self.session[self.session_key] = pending

    def _sweep_stale(self) -> None:
        """Delete uploads nobody confirmed within a day (their sessions are gone or forgot them)."""
        if not default_storage.exists(self.directory):
            return
        cutoff = timezone.now() - STALE_AFTER
        for name in default_storage.listdir(self.directory)[1]:
            path = f"{self.directory}/{name}"
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)


# An import run on a pending upload: (request, entry, dry_run=) → its report (with .ok and .written).
ImportRun = Callable[..., Any]
# The preview page: (request, token, entry, report=, error=, status=) → the response.
PreviewRender = Callable[..., HttpResponse]


def import_preview(request, token: str, *, uploads: PendingUploads, run: ImportRun, render: PreviewRender):
    """The check of a pending upload: its dry run, or the file's problem (400), or its bad rows (400)."""
    entry = uploads.get(token)
    try:
        report = run(request, entry, dry_run=True)
    except DomainError as error:
        return render(request, token, entry, error=error.message, status=400)
    return render(request, token, entry, report=report, status=200 if report.ok else 400)


def import_confirm(request, token: str, *, uploads: PendingUploads, run: ImportRun, render: PreviewRender):
    """Import a pending upload for real. Returns (report, entry) once written, the upload forgotten;
    should the file or its rows have gone bad since the check, nothing is written and the preview's
    response showing why is returned instead."""
    entry = uploads.get(token)
    try:
        report = run(request, entry, dry_run=False)
    except DomainError as error:
        return render(request, token, entry, error=error.message, status=400)
    if not report.written:
        return render(request, token, entry, report=report, status=400)
    uploads.forget(token)
    return report, entry

