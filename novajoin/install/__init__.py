"""Installers: ``novajoin-ipa-setup`` (IPA side) and ``novajoin-install`` (nova node).

Thin callers of the domain layer (``novajoin.join.rbac``) plus what only an
installer does: credentials, keytab retrieval, files, nova.conf, glance.
"""
