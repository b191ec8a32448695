"""Griffe extension for the docs site: the Sphinx roles of pinn's docstrings become cross-references.

pinn's docstrings name other objects as ``:class:`Problem```, ``:func:`pinn.fit```,
``:meth:`~pinn.geometry.Geometry.distance_factor``` or ``:mod:`pinn.pde.exact```. mkdocstrings renders
Markdown, so each role is rewritten into an autorefs element: a link where the target is documented
on the site, plain code where it exists but is not rendered (an internal module). A role whose target
exists nowhere in the package is a broken reference: it is logged as a warning, which fails
``mkdocs build --strict``. Names resolve as Sphinx resolves them: as written, then from the
object's own scope outwards (its members, its class, its module, their imports), then under ``pinn``.

Loaded by mkdocstrings (``extensions: [scripts/docs_roles.py:SphinxRoles]`` in ``mkdocs.yml``).
"""
from __future__ import annotations

import html
import importlib
import logging
import re
from collections.abc import Iterator
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):`(?P<tilde>~?)(?P<name>[\w.]+)(?P<call>\(\))?`")

# under the "mkdocs" logger, so that --strict counts it
log = logging.getLogger("mkdocs.plugins.pinn_docs_roles")


class SphinxRoles(griffe.Extension):
    """Rewrite every docstring of the package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = ROLE.sub(lambda match: _reference(match, obj), obj.docstring.value)


def _walk(obj: griffe.Object) -> Iterator[griffe.Object]:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:  # an imported name is documented where it is defined
            yield from _walk(member)


def _reference(match: re.Match, obj: griffe.Object) -> str:
    name = match["name"]
    shown = (name.rsplit(".", 1)[-1] if match["tilde"] else name) + (match["call"] or "")
    target = resolve(name, obj)
    if target is None:
        where = f"{obj.filepath}:{obj.docstring.lineno}" if obj.docstring else obj.path
        log.warning("%s: the docstring of %s refers to %s, which does not exist", where, obj.path, match[0])
        return f"`{shown}`"
    return f'<autoref identifier="{html.escape(target)}" optional><code>{html.escape(shown)}</code></autoref>'


def resolve(name: str, obj: griffe.Object) -> str | None:
    """The path of the object ``name`` means in the docstring of ``obj``, or None where there is none."""
    root = obj.package
    scopes: list[griffe.Object] = []
    scope: griffe.Object | None = obj
    while scope is not None:
        scopes.append(scope)
        scope = scope.parent
    if name == root.name or name.startswith(root.name + "."):
        candidates = [(root, name.removeprefix(root.name).lstrip("."))]
    else:
        candidates = [(scope, name) for scope in scopes]
    for scope, relative in candidates:
        found = _member(scope, relative)
        if found is not None:
            return found
    return name if importable(name) else None


def _member(scope: griffe.Object, dotted: str) -> str | None:
    if not dotted:
        return scope.path
    try:
        found = scope[dotted]
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None
    try:
        return found.canonical_path  # where it is defined: the path the site documents it under
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return found.target_path if found.is_alias else found.path


def importable(name: str) -> bool:
    """Whether ``name`` is an object outside the package (``dataclasses.replace``, ``torch.Tensor``)."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attribute in parts[split:]:
                value = getattr(value, attribute)
        except AttributeError:
            return False
        return True
    return False
