"""A small model of ipalib's parameters, with IPA's conversion and validation rules.

Clients such as ours send whatever JSON they like; real IPA coerces some of it
(``"true"`` for a Bool, ``5`` for a Str) and rejects the rest with precise
errors.  The simulator must do the same, or a client bug would pass here and
fail against a real server.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from novajoin.ipa import errors

SECRET_MASK = "********"  # noqa: S105 - the mask, not a secret

# A validation rule returns an error text, or None when the value is fine.
Rule = Callable[[Any], "str | None"]

_TRUTHS = frozenset([1, "1", True, "true"])
_FALSEHOODS = frozenset([0, "0", False, "false"])


def is_null(value: Any) -> bool:
    """IPA treats None, '' and empty lists as 'not given' (but keeps 0 and False)."""
    return value is None or (isinstance(value, str | list | tuple | dict) and len(value) == 0)


@dataclass(frozen=True)
class Param:
    """One argument or option of a command."""

    name: str
    kind: str = "str"  # str int bool flag enum dnsname password cert principal dict dn decimal
    required: bool = True
    multivalue: bool = False
    default: Any = None
    autofill: bool = False
    values: tuple[str, ...] = ()
    cli_name: str | None = None
    normalizer: Callable[[Any], Any] | None = None
    rules: tuple[Rule, ...] = field(default=())
    deprecated: bool = False

    @property
    def spec(self) -> str:
        """IPA's spec notation: name, name?, name*, name+."""
        if self.multivalue:
            return self.name + ("+" if self.required else "*")
        return self.name + ("" if self.required else "?")

    @property
    def secret(self) -> bool:
        return self.kind == "password"

    @property
    def param_name(self) -> str:
        """The name ValidationError reports (ipalib uses the CLI name)."""
        return self.cli_name or self.name

    # -- conversion -----------------------------------------------------------------
    def normalize(self, value: Any) -> Any:
        if self.normalizer is None:
            return value
        if isinstance(value, list | tuple):
            return [self._norm1(v) for v in value]
        return self._norm1(value)

    def _norm1(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self.normalizer(value)  # type: ignore[misc]
        except Exception:  # ipalib ignores normalizer failures too
            return value

    def convert(self, value: Any) -> Any:
        if is_null(value):
            return None
        if self.multivalue:
            items = value if isinstance(value, list | tuple) else [value]
            out = tuple(self._convert_scalar(v) for v in items if not is_null(v))
            return out or None
        return self._convert_scalar(value)

    def _conv_error(self, text: str, *, cli: bool = False) -> errors.IPAError:
        name = self.param_name if cli else self.name
        return errors.ConversionError(
            f"invalid '{name}': {text}", data={"name": name, "error": text}
        )

    def _convert_scalar(self, value: Any) -> Any:
        kind = self.kind
        many = isinstance(value, list | tuple)
        if kind in ("bool", "flag"):
            if type(value) is bool:
                return value
            probe = value.lower() if isinstance(value, str) else value
            if not isinstance(probe, dict | list | tuple) and probe in _TRUTHS:
                return True
            if not isinstance(probe, dict | list | tuple) and probe in _FALSEHOODS:
                return False
            raise self._conv_error("Only one value is allowed" if many else "must be True or False")
        if kind == "int":
            if type(value) is int:
                return value
            try:
                if type(value) is float:
                    return int(value)
                if type(value) is str:
                    text = value.strip()
                    if "." in text:
                        return int(float(text))
                    if len(text) > 1 and text[0] == "0" and text[1:].isdigit():
                        return int(text, 8)
                    return int(text, 0)
            except ValueError:
                pass
            raise self._conv_error("must be an integer", cli=True)
        if kind == "decimal":
            if type(value) in (int, float, str):
                try:
                    return decimal.Decimal(str(value))
                except decimal.InvalidOperation:
                    pass
            raise self._conv_error(
                "Only one value is allowed" if many else "must be a decimal number"
            )
        if kind == "dict":
            if isinstance(value, dict):
                return value
            raise self._conv_error("must be dictionary")
        if kind == "cert":
            if isinstance(value, dict) and isinstance(value.get("__base64__"), str):
                return value["__base64__"]
            if isinstance(value, str):
                return value
            raise self._conv_error("must be a certificate")
        # Str and its relatives
        if type(value) is str:
            return value
        if type(value) in (int, float):
            return str(value)
        raise self._conv_error("Only one value is allowed" if many else "must be Unicode text")

    # -- validation -----------------------------------------------------------------
    def validate(self, value: Any) -> None:
        if value is None:
            if self.required:
                raise errors.RequirementError(
                    f"'{self.name}' is required", data={"name": self.name}
                )
            return
        if self.deprecated:
            self._fail("this option is deprecated")
        for item in value if self.multivalue else (value,):
            for rule in self._all_rules():
                error = rule(item)
                if error is not None:
                    self._fail(error)

    def _fail(self, error: str) -> None:
        name = self.param_name
        raise errors.ValidationError(
            f"invalid '{name}': {error}", data={"name": name, "error": error}
        )

    def _all_rules(self) -> tuple[Rule, ...]:
        class_rules: tuple[Rule, ...] = ()
        if self.kind in ("str", "dnsname", "principal", "dn"):
            class_rules = (_no_extra_whitespace,)
        elif self.kind == "enum":
            class_rules = (self._rule_values,)
        return class_rules + self.rules

    def _rule_values(self, value: Any) -> str | None:
        if value in self.values:
            return None
        if len(self.values) == 1:
            return f"must be '{self.values[0]}'"
        return "must be one of " + ", ".join(f"'{v}'" for v in self.values)

    def safe_value(self, value: Any) -> Any:
        """The value as it may be logged."""
        return SECRET_MASK if self.secret and value is not None else value


def _no_extra_whitespace(value: Any) -> str | None:
    if isinstance(value, str) and value != value.strip():
        return "Leading and trailing spaces are not allowed"
    return None
