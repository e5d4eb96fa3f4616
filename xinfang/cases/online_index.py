"""Index changes to large tables without holding their writes (issue 9: a province migrating
while its offices work). Each migration using them must say ``atomic = False``: PostgreSQL
builds and drops an index concurrently only outside a transaction.

- ``AddIndexOnline``: Django's ``AddIndex``, built ``CONCURRENTLY`` on PostgreSQL (at a million
  cases a plain build held writes on ``cases_case`` for 1.4 s); elsewhere (SQLite, an office's
  single file) a plain ``AddIndex``. A concurrent build that fails leaves an invalid index
  behind: drop it (``DROP INDEX CONCURRENTLY``) and migrate again.
- ``RemoveIndexOnline``: ``RemoveIndex``, dropped the same way.
- ``DropFieldIndex``: a field's own index that a composite index covers (below).
"""

from __future__ import annotations

from django.db.migrations import AddIndex, RemoveIndex
from django.db.migrations.operations.base import Operation


def _concurrently(operation, app_label, schema_editor, state, index, *, add: bool) -> None:
    model = state.apps.get_model(app_label, operation.model_name)
    if operation.allow_migrate_model(schema_editor.connection.alias, model):
        change = schema_editor.add_index if add else schema_editor.remove_index
        change(model, index, concurrently=True)


class AddIndexOnline(AddIndex):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return _concurrently(self, app_label, schema_editor, to_state, self.index, add=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return _concurrently(self, app_label, schema_editor, from_state, self.index, add=False)

    def describe(self):
        return f"Create index {self.index.name} on {self.model_name} (concurrently on PostgreSQL)"


class RemoveIndexOnline(RemoveIndex):
    """``RemoveIndex``, dropped ``CONCURRENTLY`` on PostgreSQL (and built so when reversed)."""

    def _index(self, app_label, state):
        return state.models[app_label, self.model_name_lower].get_index_by_name(self.name)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return _concurrently(self, app_label, schema_editor, from_state,
                             self._index(app_label, from_state), add=False)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return _concurrently(self, app_label, schema_editor, to_state,
                             self._index(app_label, to_state), add=True)

    def describe(self):
        return f"Remove index {self.name} from {self.model_name} (concurrently on PostgreSQL)"


class DropFieldIndex(Operation):
    """Drop the index Django made for a field (``db_index``, a foreign key's own) that a
    composite index leading with the same column already serves, and — on PostgreSQL — the
    ``varchar_pattern_ops`` twin Django makes beside it for a ``LIKE 'x%'`` no query runs here.

    Every insert writes each index of its table: a case wrote 30 (issue 9). The state becomes
    ``db_index=False``; with ``like_only`` the field keeps its index and loses only the twin
    (the state is unchanged: Django drops a twin ``IF EXISTS`` when it ever alters the field).

    Unlike ``AlterField``, SQLite is not made to rebuild the table (its way of altering a
    column: the whole history table at an office's size), and PostgreSQL drops the index
    ``CONCURRENTLY`` (the migration must say ``atomic = False``). Reversed, the indexes are
    built again under the names Django gives them.
    """

    reversible = True

    def __init__(self, model_name: str, name: str, *, like_only: bool = False):
        self.model_name, self.name, self.like_only = model_name, name, like_only

    def deconstruct(self):
        kwargs = {"like_only": True} if self.like_only else {}
        return self.__class__.__name__, [self.model_name, self.name], kwargs

    def state_forwards(self, app_label, state):
        if self.like_only:
            return
        field = state.models[app_label, self.model_name.lower()].fields[self.name].clone()
        field.db_index = False
        state.alter_field(app_label, self.model_name.lower(), self.name, field, True)

    def _names(self, schema_editor, model) -> list[str]:
        """The field's own indexes as the database has them (as Django's ``AlterField`` finds
        them): on its column alone, not unique, not one of the model's declared indexes."""
        field = model._meta.get_field(self.name)
        declared = {index.name for index in model._meta.indexes}
        found = schema_editor._constraint_names(model, [field.column], index=True, unique=False)
        found = [name for name in found if name not in declared]
        return [name for name in found if name.endswith("_like")] if self.like_only else found

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        online = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
        for name in self._names(schema_editor, model):
            schema_editor.execute(f"DROP INDEX {online}IF EXISTS {schema_editor.quote_name(name)}")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        field = model._meta.get_field(self.name)
        if not self.like_only:
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))
        if schema_editor.connection.vendor == "postgresql":
            like = schema_editor._create_like_index_sql(model, field)
            if like is not None:
                schema_editor.execute(like)

    def describe(self):
        if self.like_only:
            return (f"Drop the pattern index of {self.model_name}.{self.name} (no query asks it "
                    "by prefix)")
        return f"Drop the own index of {self.model_name}.{self.name} (a composite index covers it)"

    @property
    def migration_name_fragment(self):
        return f"drop_{self.model_name.lower()}_{self.name.lower()}_index"
