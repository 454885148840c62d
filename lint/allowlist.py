"""An import-linter contract type, `allowlist`: a layer may import only the layers it names.

Unlike a `forbidden` list, an allow-list cannot go stale: a layer or top module added later
is refused until a contract lists it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import grimp
from importlinter import Contract, ContractCheck, fields, output
from importlinter.domain.imports import Module


@dataclass(frozen=True)
class Link:
    """One direct import the contract refuses, with the lines it is on."""

    importer: str
    imported: str
    lines: tuple[int | None, ...]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


class AllowListContract(Contract):
    """Every module of `layer` imports, of the root package, only modules of `may_import`.

    Each name in `may_import` stands for that package and every module in it. The root
    package's own `__init__` (it holds `__version__`) is open to every layer; the contract with
    `layer` = the root package and `as_package = false` keeps it importing nothing.
    """

    type_name = "allowlist"

    layer = fields.ModuleField()
    may_import = fields.ListField(subfield=fields.ModuleField())
    as_package = fields.BooleanField(default=True)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        layer = cast(Module, self.layer).name
        allowed = [module.name for module in cast("list[Module]", self.may_import)]
        unknown = [name for name in (layer, *allowed) if name not in graph.modules]
        if unknown:
            raise ValueError(f"contract {self.name!r} names modules that do not exist: {unknown}")
        root = layer.split(".")[0]
        refused = [
            link for link in self._imports_into(graph, layer, root)
            if link.imported != root and not self._in_layer(link.imported, layer)
            and not any(_within(link.imported, name) for name in allowed)
        ]
        return ContractCheck(kept=not refused, metadata={"refused": refused, "allowed": allowed})

    def render_broken_contract(self, check: ContractCheck) -> None:
        allowed = ", ".join(check.metadata["allowed"]) or "nothing else of the package"
        output.print_error(f"{self.layer} may import only {allowed}; refused:", bold=False)
        output.new_line()
        for link in check.metadata["refused"]:
            lines = ", ".join(str(line) for line in link.lines)
            output.print_error(f"- {link.importer} -> {link.imported} (l.{lines})", bold=False)
        output.new_line()

    def _in_layer(self, module: str, layer: str) -> bool:
        return module == layer or (bool(self.as_package) and _within(module, layer))

    def _imports_into(self, graph: grimp.ImportGraph, layer: str, root: str) -> list[Link]:
        """Every direct import from a module of `layer` into the root package."""
        importers = sorted(name for name in graph.modules if self._in_layer(name, layer))
        return [
            Link(importer, imported, _lines(graph, importer, imported))
            for importer in importers
            for imported in sorted(graph.find_modules_directly_imported_by(importer))
            if _within(imported, root)
        ]


def _lines(graph: grimp.ImportGraph, importer: str, imported: str) -> tuple[int | None, ...]:
    details = graph.get_import_details(importer=importer, imported=imported)
    return tuple(detail["line_number"] for detail in details)
