"""Command-line options derived from a stage's settings dataclass.

A settings field declares its default, its type (a Literal is a choice list) and a one-line
description (`field(default=..., metadata={"description": ...})`); the Prefect flows take the same
dataclass as a typed parameter, so the CLI, the UI form and the stage read one declaration.
`add_settings_arguments` turns the fields a command offers into `--field-name` options with that
default, type, choices and help; `settings_from_arguments` builds the dataclass back from the parsed
arguments. A field of a nested settings dataclass (CleaningSettings.colour.colour_filter) is named by
its own name. A renamed option keeps its old spelling for one release: it still works, with a notice.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import types
import typing
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping

from cli.argument_types import BOUNDS, Bounded


@dataclasses.dataclass(frozen=True)
class _Leaf:
    field: dataclasses.Field
    kind: Any  # the resolved annotation, None unwrapped

    @property
    def default(self) -> Any:
        if self.field.default is not dataclasses.MISSING:
            return self.field.default
        if self.field.default_factory is not dataclasses.MISSING:
            return self.field.default_factory()
        return None  # a required field: the command supplies it


def setting_fields(settings_class: type) -> dict[str, _Leaf]:
    """Every field of `settings_class` by name, the fields of nested settings dataclasses in place of them."""
    leaves: dict[str, _Leaf] = {}
    hints = typing.get_type_hints(settings_class)
    for item in dataclasses.fields(settings_class):
        kind = hints[item.name]
        nested = setting_fields(kind) if dataclasses.is_dataclass(kind) else {item.name: _Leaf(item, _without_none(kind))}
        for name, leaf in nested.items():
            if name in leaves:
                raise ValueError(f"{settings_class.__name__}: two settings named {name!r}")
            leaves[name] = leaf
    return leaves


def description(settings_class: type, name: str) -> str:
    return setting_fields(settings_class)[name].field.metadata["description"]


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_settings_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, settings_class: type, names: Iterable[str],
    renamed: Mapping[str, str] | None = None,
) -> None:
    """`--name` for each of `names` (fields of `settings_class`); `renamed`: old flag -> field name,
    accepted for one release with a deprecation notice."""
    leaves = setting_fields(settings_class)
    for name in names:
        parser.add_argument(flag(name), dest=name, **_option(leaves[name]))
    for old, name in (renamed or {}).items():
        option = {key: value for key, value in _option(leaves[name]).items() if key not in ("action", "help")}
        parser.add_argument(old, dest=name, action=DeprecatedSpelling, new=flag(name), help=argparse.SUPPRESS, **option)


def settings_from_arguments(settings_class: type, args: argparse.Namespace, names: Iterable[str], **given: Any) -> Any:
    """`settings_class` with the parsed values of `names` (the options `add_settings_arguments` made),
    `given` values, and every other field at its default."""
    wanted = set(names)

    def build(cls: type, base: Any) -> Any:
        """`base` (the enclosing field's default; None at the top) with the given and parsed values."""
        values: dict[str, Any] = {}
        hints = typing.get_type_hints(cls)
        for item in dataclasses.fields(cls):
            if dataclasses.is_dataclass(hints[item.name]):
                values[item.name] = build(hints[item.name], _Leaf(item, hints[item.name]).default)
            elif item.name in given:
                values[item.name] = given[item.name]
            elif item.name in wanted and getattr(args, item.name) is not None:
                value = getattr(args, item.name)
                values[item.name] = tuple(value) if isinstance(value, list) else value
        return dataclasses.replace(base, **values) if base is not None else cls(**values)

    return build(settings_class, None)


def _option(leaf: _Leaf) -> dict[str, Any]:
    kind, default = leaf.kind, leaf.default
    text = leaf.field.metadata["description"].replace("%", "%%")
    if default is not None and not isinstance(default, (bool, tuple)):
        text = f"{text.removesuffix('.')} (default {default})."
    if kind is bool:
        return {"action": "store_true" if not default else argparse.BooleanOptionalAction, "default": default, "help": text}
    origin = typing.get_origin(kind)
    if origin is Literal:
        choices = list(typing.get_args(kind))
        return {"choices": choices, "type": type(choices[0]), "default": default, "help": text}
    if origin is tuple:  # repeatable: --include A --include B
        return {"action": "append", "type": typing.get_args(kind)[0], "default": None, "help": text}
    if kind in (int, float) and BOUNDS.keys() & leaf.field.metadata.keys():
        return {"type": Bounded(kind, leaf.field.metadata), "default": default, "help": text}
    if kind in (int, float, str, Path):
        return {"type": kind, "default": default, "help": text}
    raise TypeError(f"no command-line option for a {kind!r} setting ({leaf.field.name})")


def _without_none(kind: Any) -> Any:
    """`X | None` -> X."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        rest = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return kind


class DeprecatedSpelling(argparse.Action):
    """An option's old spelling: stores the value as the new one does and says what to type instead."""

    def __init__(self, *args: Any, new: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new = new

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(f"{parser.prog}: {option_string} is deprecated and goes in the next release; use {self.new}",
              file=sys.stderr)
        setattr(namespace, self.dest, values)
