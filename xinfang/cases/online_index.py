"""An index added to a large table without holding its writes (issue 9: a province migrating
while its offices work).

``AddIndexOnline`` is Django's ``AddIndex`` that on PostgreSQL builds the index
``CONCURRENTLY``: the table takes inserts and updates while the index is built (at a million
cases a plain build held writes on ``cases_case`` for 1.4 s). Elsewhere (SQLite, an office's
single file) it is a plain ``AddIndex``. Its migration must say ``atomic = False``: PostgreSQL
builds a concurrent index only outside a transaction. A concurrent build that fails leaves an
invalid index behind: drop it (``DROP INDEX CONCURRENTLY``) and migrate again.
"""

from __future__ import annotations

from django.db.migrations import AddIndex


class AddIndexOnline(AddIndex):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)
        return None

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)
        return None

    def describe(self):
        return f"Create index {self.index.name} on {self.model_name} (concurrently on PostgreSQL)"
