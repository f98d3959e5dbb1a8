"""Signals a host or plugin can listen to (blinker, through Flask's namespace).

- ``certificate_issued``: sent with the app as sender and ``certificate=``, ``actor=`` (the person
  who issued it, or None from the CLI), after a new certificate is flushed (not yet committed).
- ``certificate_revoked``: sent with ``certificate=``, ``actor=``, ``reason=`` after a revocation
  (a reissue revokes the old certificate with the reason "replaced" and sends this too).

Receivers run inside the request's transaction: one that raises aborts it. Do slow work (mail)
after the commit, for example in a worker.
"""

from __future__ import annotations

from flask.signals import Namespace

lms_signals = Namespace()

certificate_issued = lms_signals.signal(
    "lms.certificate-issued", doc="A certificate of completion was issued."
)
certificate_revoked = lms_signals.signal(
    "lms.certificate-revoked", doc="A certificate was revoked (or replaced)."
)
