"""Typed IPA errors.

IPA reports command failures with HTTP 200 and ``{"error": {"code", "name",
"message", "data"}}``.  Each public error code gets its own exception class
here so callers can ``except NotFound`` instead of comparing numbers.  The
simulator raises the very same classes, so code and name live in one table.
"""

from __future__ import annotations

from typing import Any


class IPAClientError(Exception):
    """Base of everything the IPA client raises."""


class TransportError(IPAClientError):
    """No usable answer from any IPA server (connection, TLS, timeout, 5xx)."""


class AuthenticationFailed(IPAClientError):
    """Kerberos or password login to IPA did not succeed."""


class ProtocolError(IPAClientError):
    """IPA answered something that is not a JSON-RPC response."""


class IPAError(IPAClientError):
    """An error IPA itself reported for a command (HTTP 200 with ``error``)."""

    code: int = 900
    name: str = "PublicError"

    def __init__(
        self,
        message: str = "",
        *,
        data: dict[str, Any] | None = None,
        code: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.data = data or {}
        if code is not None:
            self.code = code
        if name is not None:
            self.name = name
        # Set by the client when the command was sent more than once; an
        # ``add`` that failed with DuplicateEntry after a retry may have been
        # applied by the first attempt.
        self.attempts = 1

    def __str__(self) -> str:
        return f"{self.name} ({self.code}): {self.message}"

    def to_json(self) -> dict[str, Any]:
        """The ``error`` member of a JSON-RPC response."""
        return {
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "data": self.data,
        }


def _error(code: int, name: str, base: type[IPAError] = IPAError) -> type[IPAError]:
    cls = type(name, (base,), {"code": code, "name": name, "__doc__": f"IPA error {code}."})
    cls.__module__ = __name__
    return cls


# The table below follows ipalib/errors.py (FreeIPA 4.13): code, class name
# and parent.  Callers catch the parents too (``except ExecutionError``), so
# the hierarchy matters as much as the numbers.

# 900-999: top-level public errors
VersionError = _error(901, "VersionError")
UnknownError = _error(902, "UnknownError")
InternalError = _error(903, "InternalError")
ServerInternalError = _error(904, "ServerInternalError")
CommandError = _error(905, "CommandError")
ServerCommandError = _error(906, "ServerCommandError")
NetworkError = _error(907, "NetworkError")
ServerNetworkError = _error(908, "ServerNetworkError")
JSONError = _error(909, "JSONError")
XMLRPCMarshallError = _error(910, "XMLRPCMarshallError")
RefererError = _error(911, "RefererError")
# IPA's names shadow Python builtins; the Python names get a prefix, the
# ``name`` on the wire stays IPA's.
IPAEnvironmentError = _error(912, "EnvironmentError")
SystemEncodingError = _error(913, "SystemEncodingError")
# 1000-1999: authentication
AuthenticationError = _error(1000, "AuthenticationError")
KerberosError = _error(1100, "KerberosError", AuthenticationError)
CCacheError = _error(1101, "CCacheError", KerberosError)
ServiceError = _error(1102, "ServiceError", KerberosError)
NoCCacheError = _error(1103, "NoCCacheError", KerberosError)
TicketExpired = _error(1104, "TicketExpired", KerberosError)
BadCCachePerms = _error(1105, "BadCCachePerms", KerberosError)
BadCCacheFormat = _error(1106, "BadCCacheFormat", KerberosError)
CannotResolveKDC = _error(1107, "CannotResolveKDC", KerberosError)
SessionError = _error(1200, "SessionError", AuthenticationError)
InvalidSessionPassword = _error(1201, "InvalidSessionPassword", SessionError)
PasswordExpired = _error(1202, "PasswordExpired", InvalidSessionPassword)
KrbPrincipalExpired = _error(1203, "KrbPrincipalExpired", SessionError)
UserLocked = _error(1204, "UserLocked", SessionError)
# 2000-2999: authorization
AuthorizationError = _error(2000, "AuthorizationError")
ACIError = _error(2100, "ACIError", AuthorizationError)
# 3000-3999: invocation
InvocationError = _error(3000, "InvocationError")
EncodingError = _error(3001, "EncodingError", InvocationError)
BinaryEncodingError = _error(3002, "BinaryEncodingError", InvocationError)
ZeroArgumentError = _error(3003, "ZeroArgumentError", InvocationError)
MaxArgumentError = _error(3004, "MaxArgumentError", InvocationError)
OptionError = _error(3005, "OptionError", InvocationError)
OverlapError = _error(3006, "OverlapError", InvocationError)
RequirementError = _error(3007, "RequirementError", InvocationError)
ConversionError = _error(3008, "ConversionError", InvocationError)
ValidationError = _error(3009, "ValidationError", InvocationError)
NoSuchNamespaceError = _error(3010, "NoSuchNamespaceError", InvocationError)
PasswordMismatch = _error(3011, "PasswordMismatch", InvocationError)
IPANotImplementedError = _error(3012, "NotImplementedError", InvocationError)
NotConfiguredError = _error(3013, "NotConfiguredError", InvocationError)
PromptFailed = _error(3014, "PromptFailed", InvocationError)
DeprecationError = _error(3015, "DeprecationError", InvocationError)
NotAForestRootError = _error(3016, "NotAForestRootError", InvocationError)
# 4000-4999: execution
ExecutionError = _error(4000, "ExecutionError")
NotFound = _error(4001, "NotFound", ExecutionError)
DuplicateEntry = _error(4002, "DuplicateEntry", ExecutionError)
HostService = _error(4003, "HostService", ExecutionError)
MalformedServicePrincipal = _error(4004, "MalformedServicePrincipal", ExecutionError)
RealmMismatch = _error(4005, "RealmMismatch", ExecutionError)
RequiresRoot = _error(4006, "RequiresRoot", ExecutionError)
AlreadyPosixGroup = _error(4007, "AlreadyPosixGroup", ExecutionError)
MalformedUserPrincipal = _error(4008, "MalformedUserPrincipal", ExecutionError)
AlreadyActive = _error(4009, "AlreadyActive", ExecutionError)
AlreadyInactive = _error(4010, "AlreadyInactive", ExecutionError)
HasNSAccountLock = _error(4011, "HasNSAccountLock", ExecutionError)
NotGroupMember = _error(4012, "NotGroupMember", ExecutionError)
RecursiveGroup = _error(4013, "RecursiveGroup", ExecutionError)
AlreadyGroupMember = _error(4014, "AlreadyGroupMember", ExecutionError)
Base64DecodeError = _error(4015, "Base64DecodeError", ExecutionError)
RemoteRetrieveError = _error(4016, "RemoteRetrieveError", ExecutionError)
SameGroupError = _error(4017, "SameGroupError", ExecutionError)
DefaultGroupError = _error(4018, "DefaultGroupError", ExecutionError)
ManagedGroupError = _error(4020, "ManagedGroupError", ExecutionError)
ManagedPolicyError = _error(4021, "ManagedPolicyError", ExecutionError)
FileError = _error(4022, "FileError", ExecutionError)
NoCertificateError = _error(4023, "NoCertificateError", ExecutionError)
ManagedGroupExistsError = _error(4024, "ManagedGroupExistsError", ExecutionError)
ReverseMemberError = _error(4025, "ReverseMemberError", ExecutionError)
AttrValueNotFound = _error(4026, "AttrValueNotFound", ExecutionError)
SingleMatchExpected = _error(4027, "SingleMatchExpected", ExecutionError)
AlreadyExternalGroup = _error(4028, "AlreadyExternalGroup", ExecutionError)
ExternalGroupViolation = _error(4029, "ExternalGroupViolation", ExecutionError)
PosixGroupViolation = _error(4030, "PosixGroupViolation", ExecutionError)
EmptyResult = _error(4031, "EmptyResult", NotFound)
InvalidDomainLevelError = _error(4032, "InvalidDomainLevelError", ExecutionError)
ServerRemovalError = _error(4033, "ServerRemovalError", ExecutionError)
OperationNotSupportedForPrincipalType = _error(
    4034, "OperationNotSupportedForPrincipalType", ExecutionError
)
HTTPRequestError = _error(4035, "HTTPRequestError", RemoteRetrieveError)
RedundantMappingRule = _error(4036, "RedundantMappingRule", SingleMatchExpected)
CSRTemplateError = _error(4037, "CSRTemplateError", ExecutionError)
AlreadyContainsValueError = _error(4038, "AlreadyContainsValueError", ExecutionError)
BuiltinError = _error(4100, "BuiltinError", ExecutionError)
HelpError = _error(4101, "HelpError", BuiltinError)
LDAPError = _error(4200, "LDAPError", ExecutionError)
# In IPA the 42xx errors below derive from ExecutionError, not from LDAPError.
MidairCollision = _error(4201, "MidairCollision", ExecutionError)
EmptyModlist = _error(4202, "EmptyModlist", ExecutionError)
DatabaseError = _error(4203, "DatabaseError", ExecutionError)
LimitsExceeded = _error(4204, "LimitsExceeded", ExecutionError)
ObjectclassViolation = _error(4205, "ObjectclassViolation", ExecutionError)
NotAllowedOnRDN = _error(4206, "NotAllowedOnRDN", ExecutionError)
OnlyOneValueAllowed = _error(4207, "OnlyOneValueAllowed", ExecutionError)
InvalidSyntax = _error(4208, "InvalidSyntax", ExecutionError)
BadSearchFilter = _error(4209, "BadSearchFilter", ExecutionError)
NotAllowedOnNonLeaf = _error(4210, "NotAllowedOnNonLeaf", ExecutionError)
DatabaseTimeout = _error(4211, "DatabaseTimeout", DatabaseError)
TaskTimeout = _error(4213, "TaskTimeout", DatabaseError)
TimeLimitExceeded = _error(4214, "TimeLimitExceeded", LimitsExceeded)
SizeLimitExceeded = _error(4215, "SizeLimitExceeded", LimitsExceeded)
AdminLimitExceeded = _error(4216, "AdminLimitExceeded", LimitsExceeded)
CertificateError = _error(4300, "CertificateError", ExecutionError)
CertificateOperationError = _error(4301, "CertificateOperationError", CertificateError)
CertificateFormatError = _error(4302, "CertificateFormatError", CertificateError)
MutuallyExclusiveError = _error(4303, "MutuallyExclusiveError", ExecutionError)
NonFatalError = _error(4304, "NonFatalError", ExecutionError)
AlreadyRegisteredError = _error(4305, "AlreadyRegisteredError", ExecutionError)
NotRegisteredError = _error(4306, "NotRegisteredError", ExecutionError)
DependentEntry = _error(4307, "DependentEntry", ExecutionError)
LastMemberError = _error(4308, "LastMemberError", ExecutionError)
ProtectedEntryError = _error(4309, "ProtectedEntryError", ExecutionError)
CertificateInvalidError = _error(4310, "CertificateInvalidError", CertificateError)
SchemaUpToDate = _error(4311, "SchemaUpToDate", ExecutionError)
DNSError = _error(4400, "DNSError", ExecutionError)
# 4019 and 4212 predate the 44xx block but are DNSError subclasses in IPA.
DNSNotARecordError = _error(4019, "DNSNotARecordError", DNSError)
DNSDataMismatch = _error(4212, "DNSDataMismatch", DNSError)
DNSResolverError = _error(4401, "DNSResolverError", DNSError)
TrustError = _error(4500, "TrustError", ExecutionError)
TrustTopologyConflictError = _error(4501, "TrustTopologyConflictError", TrustError)
# 5000-5999: generic
GenericError = _error(5000, "GenericError")

_BY_CODE: dict[int, type[IPAError]] = {
    cls.code: cls
    for cls in list(globals().values())
    if isinstance(cls, type) and issubclass(cls, IPAError) and cls is not IPAError
}


def from_json(error: dict[str, Any]) -> IPAError:
    """Build the typed exception for the ``error`` member of a response.

    Unknown codes still keep their code and name, as a plain IPAError.
    """
    code = error.get("code")
    name = str(error.get("name") or "PublicError")
    message = str(error.get("message") or "")
    data = error.get("data") if isinstance(error.get("data"), dict) else None
    cls = _BY_CODE.get(code) if isinstance(code, int) else None
    if cls is None:
        return IPAError(message, data=data, code=code if isinstance(code, int) else 900, name=name)
    return cls(message, data=data)
