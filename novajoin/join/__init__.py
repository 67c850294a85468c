"""The domain layer: naming, the enrollment decision, ownership, OTPs and IPA enrollment.

Entry points (REST service, notification listener, reconciler, installer)
stay thin callers of this package.
"""

from novajoin.join.decision import Decision, decide, os_version, parse_flag
from novajoin.join.errors import (
    InvalidName,
    IPACommandFailed,
    IPAUnavailable,
    JoinError,
    LookupUnavailable,
    OTPKeyError,
    ProjectNotFound,
)
from novajoin.join.lookups import (
    GlanceImageLookup,
    ImageLookup,
    KeystoneProjectLookup,
    ProjectLookup,
    TTLCache,
)
from novajoin.join.marker import Marker
from novajoin.join.model import (
    ENROLLED,
    NOT_REQUESTED,
    OTP_ISSUED,
    REFUSED,
    InstanceRequest,
    JoinAnswer,
    JoinSettings,
)
from novajoin.join.naming import host_fqdn, normalize_project
from novajoin.join.otp import compute_otp, create_otp_key, load_otp_key, verify_otp
from novajoin.join.service import JoinService

__all__ = [
    "ENROLLED",
    "NOT_REQUESTED",
    "OTP_ISSUED",
    "REFUSED",
    "Decision",
    "GlanceImageLookup",
    "IPACommandFailed",
    "IPAUnavailable",
    "ImageLookup",
    "InstanceRequest",
    "InvalidName",
    "JoinAnswer",
    "JoinError",
    "JoinService",
    "JoinSettings",
    "KeystoneProjectLookup",
    "LookupUnavailable",
    "Marker",
    "OTPKeyError",
    "ProjectLookup",
    "ProjectNotFound",
    "TTLCache",
    "compute_otp",
    "create_otp_key",
    "decide",
    "host_fqdn",
    "load_otp_key",
    "normalize_project",
    "os_version",
    "parse_flag",
    "verify_otp",
]

# Instance lifecycle after enrollment (delete, rebuild) and DNS of its addresses.
from novajoin.join.dns import DNSMarker
from novajoin.join.hosts import OwnedHost, find_owned_hosts
from novajoin.join.lifecycle import InstanceLifecycle, Outcome

__all__ += ["DNSMarker", "InstanceLifecycle", "Outcome", "OwnedHost", "find_owned_hosts"]
