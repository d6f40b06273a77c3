"""GIN indexes for full-text search, on PostgreSQL only (SQLite searches without them).

Each index is on exactly the document expression newsletter/search.py matches against; if the two
drift apart, PostgreSQL silently stops using the index (tests/test_search.py checks the plan).
They live outside the model state because they are PostgreSQL-specific: on SQLite this migration
does nothing.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

CONFIG = "english"


def _document(*weighted_fields):
    vectors = [SearchVector(field, weight=weight, config=CONFIG) for field, weight in weighted_fields]
    document = vectors[0]
    for vector in vectors[1:]:
        document = document + vector
    return document


INDEXES = {
    "issue": GinIndex(_document(("title", "A"), ("search_text", "B")), name="issue_search_idx"),
    "papersummary": GinIndex(_document(("headline", "A"), ("search_text", "B")), name="summary_search_idx"),
    "paper": GinIndex(_document(("title", "C"), ("authors", "C")), name="paper_search_idx"),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in INDEXES.items():
        schema_editor.add_index(apps.get_model("newsletter", model_name), index)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in INDEXES.items():
        schema_editor.remove_index(apps.get_model("newsletter", model_name), index)


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
    ]
