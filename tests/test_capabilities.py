"""Every capability is one declaration: its module exists, names its services' slot, and owns its
tables and its migration branch; every table belongs to exactly one capability or to the foundation."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest

import idp
from idp.capability import Capability
from idp.stores.migrate import alembic_config

FOUNDATION_TABLES = "idp.stores.models"
STORES = Path(idp.__file__).parent / "stores"


def _declared() -> list[Capability[object]]:
    return [importlib.import_module(name).CAPABILITY for name in idp.CAPABILITIES]


def test_each_listed_module_holds_one_declaration_with_its_own_slot():
    declared = _declared()
    assert all(isinstance(capability, Capability) for capability in declared)
    assert len({c.name for c in declared}) == len(declared)
    assert len({id(c.slot) for c in declared}) == len(declared)
    for name, capability in zip(idp.CAPABILITIES, declared, strict=True):
        # The slot lives in the capability's package, where its views and commands find it.
        package = importlib.import_module(name.rsplit(".", 1)[0])
        assert capability.slot in vars(package).values(), name


def test_declared_table_modules_exist_and_every_one_is_declared_once():
    declared = [c.tables for c in _declared() if c.tables is not None]
    assert len(set(declared)) == len(declared)
    for module in declared:
        assert importlib.util.find_spec(module) is not None, module
    on_disk = {f"idp.stores.{path.stem}" for path in STORES.glob("tables_*.py")}
    assert on_disk == set(declared)


def test_every_table_belongs_to_exactly_one_declaration_or_to_the_foundation():
    from idp.stores.models import Base

    owners = {FOUNDATION_TABLES} | {c.tables for c in _declared() if c.tables is not None}
    for module in owners:
        importlib.import_module(module)
    by_table: dict[str, set[str]] = {}
    for mapper in Base.registry.mappers:
        for table in mapper.tables:
            by_table.setdefault(table.name, set()).add(mapper.class_.__module__)
    assert set(by_table) == set(Base.metadata.tables), "a table without a mapped class has no owner"
    for table, modules in sorted(by_table.items()):
        assert len(modules) == 1 and modules <= owners, (table, modules)


def test_each_declared_branch_starts_from_the_foundation_and_joins_the_merge():
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    branches = [c.migrations for c in _declared() if c.migrations is not None]
    assert len(set(branches)) == len(branches)
    # A branch joins the one head at a merge revision: 0002 for the first capabilities, a later
    # one (0008, 0011 ...) for those that came after.
    joined = {down for rev in scripts.walk_revisions() if isinstance(rev.down_revision, tuple)
              for down in rev.down_revision}
    for branch in branches:
        first = scripts.get_revision(f"{branch}_0001")
        assert first is not None and first.down_revision == "0001", branch
        assert first.revision in joined, branch
    prefixes = {rev.revision.split("_")[0] for rev in scripts.walk_revisions() if not rev.revision.isdigit()}
    assert prefixes == set(branches), "a migration branch that no capability declares"


def test_a_declaration_that_is_missing_stops_the_start(monkeypatch, settings):
    monkeypatch.setattr(idp, "CAPABILITIES", (*idp.CAPABILITIES, "idp.mfa"))  # a package, no CAPABILITY
    with pytest.raises(AttributeError, match="CAPABILITY"):
        idp.create_app(settings)
