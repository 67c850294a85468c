"""The typed error table against FreeIPA's ipalib/errors.py (4.13)."""

from __future__ import annotations

import pytest

from novajoin.ipa import errors

# (code, IPA class name, IPA parent class name), transcribed from ipalib.
IPA_TABLE = [
    (901, "VersionError", "PublicError"),
    (902, "UnknownError", "PublicError"),
    (903, "InternalError", "PublicError"),
    (904, "ServerInternalError", "PublicError"),
    (905, "CommandError", "PublicError"),
    (906, "ServerCommandError", "PublicError"),
    (907, "NetworkError", "PublicError"),
    (908, "ServerNetworkError", "PublicError"),
    (909, "JSONError", "PublicError"),
    (910, "XMLRPCMarshallError", "PublicError"),
    (911, "RefererError", "PublicError"),
    (912, "EnvironmentError", "PublicError"),
    (913, "SystemEncodingError", "PublicError"),
    (1000, "AuthenticationError", "PublicError"),
    (1100, "KerberosError", "AuthenticationError"),
    (1101, "CCacheError", "KerberosError"),
    (1102, "ServiceError", "KerberosError"),
    (1103, "NoCCacheError", "KerberosError"),
    (1104, "TicketExpired", "KerberosError"),
    (1105, "BadCCachePerms", "KerberosError"),
    (1106, "BadCCacheFormat", "KerberosError"),
    (1107, "CannotResolveKDC", "KerberosError"),
    (1200, "SessionError", "AuthenticationError"),
    (1201, "InvalidSessionPassword", "SessionError"),
    (1202, "PasswordExpired", "InvalidSessionPassword"),
    (1203, "KrbPrincipalExpired", "SessionError"),
    (1204, "UserLocked", "SessionError"),
    (2000, "AuthorizationError", "PublicError"),
    (2100, "ACIError", "AuthorizationError"),
    (3000, "InvocationError", "PublicError"),
    (3001, "EncodingError", "InvocationError"),
    (3002, "BinaryEncodingError", "InvocationError"),
    (3003, "ZeroArgumentError", "InvocationError"),
    (3004, "MaxArgumentError", "InvocationError"),
    (3005, "OptionError", "InvocationError"),
    (3006, "OverlapError", "InvocationError"),
    (3007, "RequirementError", "InvocationError"),
    (3008, "ConversionError", "InvocationError"),
    (3009, "ValidationError", "InvocationError"),
    (3010, "NoSuchNamespaceError", "InvocationError"),
    (3011, "PasswordMismatch", "InvocationError"),
    (3012, "NotImplementedError", "InvocationError"),
    (3013, "NotConfiguredError", "InvocationError"),
    (3014, "PromptFailed", "InvocationError"),
    (3015, "DeprecationError", "InvocationError"),
    (3016, "NotAForestRootError", "InvocationError"),
    (4000, "ExecutionError", "PublicError"),
    (4001, "NotFound", "ExecutionError"),
    (4002, "DuplicateEntry", "ExecutionError"),
    (4003, "HostService", "ExecutionError"),
    (4004, "MalformedServicePrincipal", "ExecutionError"),
    (4005, "RealmMismatch", "ExecutionError"),
    (4006, "RequiresRoot", "ExecutionError"),
    (4007, "AlreadyPosixGroup", "ExecutionError"),
    (4008, "MalformedUserPrincipal", "ExecutionError"),
    (4009, "AlreadyActive", "ExecutionError"),
    (4010, "AlreadyInactive", "ExecutionError"),
    (4011, "HasNSAccountLock", "ExecutionError"),
    (4012, "NotGroupMember", "ExecutionError"),
    (4013, "RecursiveGroup", "ExecutionError"),
    (4014, "AlreadyGroupMember", "ExecutionError"),
    (4015, "Base64DecodeError", "ExecutionError"),
    (4016, "RemoteRetrieveError", "ExecutionError"),
    (4017, "SameGroupError", "ExecutionError"),
    (4018, "DefaultGroupError", "ExecutionError"),
    (4019, "DNSNotARecordError", "DNSError"),
    (4020, "ManagedGroupError", "ExecutionError"),
    (4021, "ManagedPolicyError", "ExecutionError"),
    (4022, "FileError", "ExecutionError"),
    (4023, "NoCertificateError", "ExecutionError"),
    (4024, "ManagedGroupExistsError", "ExecutionError"),
    (4025, "ReverseMemberError", "ExecutionError"),
    (4026, "AttrValueNotFound", "ExecutionError"),
    (4027, "SingleMatchExpected", "ExecutionError"),
    (4028, "AlreadyExternalGroup", "ExecutionError"),
    (4029, "ExternalGroupViolation", "ExecutionError"),
    (4030, "PosixGroupViolation", "ExecutionError"),
    (4031, "EmptyResult", "NotFound"),
    (4032, "InvalidDomainLevelError", "ExecutionError"),
    (4033, "ServerRemovalError", "ExecutionError"),
    (4034, "OperationNotSupportedForPrincipalType", "ExecutionError"),
    (4035, "HTTPRequestError", "RemoteRetrieveError"),
    (4036, "RedundantMappingRule", "SingleMatchExpected"),
    (4037, "CSRTemplateError", "ExecutionError"),
    (4038, "AlreadyContainsValueError", "ExecutionError"),
    (4100, "BuiltinError", "ExecutionError"),
    (4101, "HelpError", "BuiltinError"),
    (4200, "LDAPError", "ExecutionError"),
    (4201, "MidairCollision", "ExecutionError"),
    (4202, "EmptyModlist", "ExecutionError"),
    (4203, "DatabaseError", "ExecutionError"),
    (4204, "LimitsExceeded", "ExecutionError"),
    (4205, "ObjectclassViolation", "ExecutionError"),
    (4206, "NotAllowedOnRDN", "ExecutionError"),
    (4207, "OnlyOneValueAllowed", "ExecutionError"),
    (4208, "InvalidSyntax", "ExecutionError"),
    (4209, "BadSearchFilter", "ExecutionError"),
    (4210, "NotAllowedOnNonLeaf", "ExecutionError"),
    (4211, "DatabaseTimeout", "DatabaseError"),
    (4212, "DNSDataMismatch", "DNSError"),
    (4213, "TaskTimeout", "DatabaseError"),
    (4214, "TimeLimitExceeded", "LimitsExceeded"),
    (4215, "SizeLimitExceeded", "LimitsExceeded"),
    (4216, "AdminLimitExceeded", "LimitsExceeded"),
    (4300, "CertificateError", "ExecutionError"),
    (4301, "CertificateOperationError", "CertificateError"),
    (4302, "CertificateFormatError", "CertificateError"),
    (4303, "MutuallyExclusiveError", "ExecutionError"),
    (4304, "NonFatalError", "ExecutionError"),
    (4305, "AlreadyRegisteredError", "ExecutionError"),
    (4306, "NotRegisteredError", "ExecutionError"),
    (4307, "DependentEntry", "ExecutionError"),
    (4308, "LastMemberError", "ExecutionError"),
    (4309, "ProtectedEntryError", "ExecutionError"),
    (4310, "CertificateInvalidError", "CertificateError"),
    (4311, "SchemaUpToDate", "ExecutionError"),
    (4400, "DNSError", "ExecutionError"),
    (4401, "DNSResolverError", "DNSError"),
    (4500, "TrustError", "ExecutionError"),
    (4501, "TrustTopologyConflictError", "TrustError"),
    (5000, "GenericError", "PublicError"),
]


def test_table_covers_every_class() -> None:
    assert {code for code, _, _ in IPA_TABLE} == set(errors._BY_CODE)


@pytest.mark.parametrize(("code", "name", "parent"), IPA_TABLE)
def test_code_name_and_parent_match_ipa(code: int, name: str, parent: str) -> None:
    cls = errors._BY_CODE[code]
    assert cls.code == code
    assert cls.name == name
    assert cls.__name__ == name
    base = cls.__bases__[0]
    assert (base.name if base is not errors.IPAError else "PublicError") == parent


@pytest.mark.parametrize(("code", "name", "parent"), IPA_TABLE)
def test_from_json_builds_the_typed_class(code: int, name: str, parent: str) -> None:
    exc = errors.from_json({"code": code, "name": name, "message": "m", "data": {"k": "v"}})
    assert type(exc) is errors._BY_CODE[code]
    assert exc.message == "m" and exc.data == {"k": "v"} and exc.attempts == 1
    assert exc.to_json() == {"code": code, "name": name, "message": "m", "data": {"k": "v"}}


def test_hierarchy_lets_callers_catch_parents() -> None:
    assert issubclass(errors.EmptyResult, errors.NotFound)
    assert issubclass(errors.DNSNotARecordError, errors.ExecutionError)
    assert issubclass(errors.PasswordExpired, errors.InvalidSessionPassword)
    assert issubclass(errors.ACIError, errors.AuthorizationError)
    assert issubclass(errors.IPAError, errors.IPAClientError)
    assert not issubclass(errors.TransportError, errors.IPAError)


def test_unknown_code_keeps_code_and_name() -> None:
    exc = errors.from_json({"code": 4999, "name": "FutureError", "message": "new"})
    assert type(exc) is errors.IPAError
    assert (exc.code, exc.name, str(exc)) == (4999, "FutureError", "FutureError (4999): new")


def test_malformed_error_member_is_tolerated() -> None:
    exc = errors.from_json({"code": "x", "data": [1]})
    assert type(exc) is errors.IPAError
    assert exc.code == 900 and exc.data == {}
