"""Errors of the domain layer.

Only conditions the caller must turn into a *transient* failure (HTTP 503,
a requeued notification) are exceptions.  Every refusal that the instance
should read (bad hostname, foreign host, ...) is a ``JoinAnswer`` instead,
so nova stores an explanation rather than an empty dict.
"""

from __future__ import annotations


class JoinError(Exception):
    """Base of the exceptions raised by ``novajoin.join``."""


class IPAUnavailable(JoinError):
    """IPA could not be reached, or did not answer, within the time budget."""


class IPACommandFailed(IPAUnavailable):
    """IPA answered a command with an error novajoin cannot work around.

    Typically a missing privilege (ACIError).  It is an ``IPAUnavailable`` so
    entry points answer "try again later" (503) instead of a wrong answer;
    ``ipa_error`` holds IPA's error name and code for the operator's log.
    """

    def __init__(self, message: str, *, ipa_error: str = "") -> None:
        super().__init__(message)
        self.ipa_error = ipa_error


class LookupUnavailable(JoinError):
    """glance or keystone could not be asked (connection, 5xx, auth)."""


class ProjectNotFound(LookupError):
    """keystone does not know the project (HTTP 404)."""


class InvalidName(ValueError):
    """A hostname (or project name) that cannot become a valid IPA host name.

    The message is written for the instance's owner: it says what is wrong.
    """


class OTPKeyError(JoinError):
    """The OTP key file is missing, unsafe (group/world readable) or unusable."""
