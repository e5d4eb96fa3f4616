"""A name's blind indexes and fuzzy keys computed again where the wider normal form changes them.

``security.names.normalise_name`` now leaves out what nobody sees (a zero-width space, a BOM, a
soft hyphen, a bidi mark pasted in with the name) and variation selectors, and reads ꞏ ⸱ ⸳ . 。 as
the name's middle dot. A name stored before with one of them was indexed with it: typed again
without it, the person would not be found. This reads every stored name (decrypted, about 11 µs a
name, some 15–30 s for a million people) and rewrites the indexes and keys of the few whose normal
form changes; the names themselves are left as stored. A data migration rather than a command:
the indexes must agree with the code that reads them from the moment it runs, and a command
someone forgets to run would leave those people unfound without a word. Nothing to undo: the old
indexes are not wanted back.
"""

import re
import unicodedata

from django.db import migrations

BATCH = 2000
_OLD_DOTS = re.compile(r"[\u00b7\u2022\u2027\u30fb\uff65\u2219\u22c5\u0387]")


def _old_normal(name):
    """``normalise_name`` as it was before: only a name it gives another form needs new
    indexes (the HMACs are spent on those few)."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name or ""))
    return _OLD_DOTS.sub("·", text).casefold()


def _changed(rows, name_of):
    """The rows whose name normalises otherwise now."""
    from xinfang.security.names import normalise_name

    for row in rows:
        name = name_of(row)
        if normalise_name(name) != _old_normal(name):
            yield row


def reindex(apps, schema_editor):
    from xinfang.matching.keys import person_keys
    from xinfang.security.crypto import get_keyring
    from xinfang.security.names import name_index, name_pinyin_index

    Petitioner = apps.get_model("cases", "Petitioner")
    PersonKey = apps.get_model("matching", "PersonKey")
    if not Petitioner.objects.exists() and not any(
        apps.get_model("registers", m).objects.exists()
        for m in ("ScreeningFinding", "BacklogCase")
    ):
        return  # a fresh database needs no key file here
    ring = get_keyring()

    people = Petitioner.objects.only("id", "name", "township_id").order_by("pk")
    changed = list(_changed(people.iterator(chunk_size=BATCH), lambda p: p.name))
    for p in changed:
        p.name_index = name_index(p.name, ring=ring)
        p.name_pinyin_index = name_pinyin_index(p.name, ring=ring)
    for start in range(0, len(changed), BATCH):
        batch = changed[start:start + BATCH]
        Petitioner.objects.bulk_update(batch, ["name_index", "name_pinyin_index"])
        PersonKey.objects.filter(petitioner_id__in=[p.pk for p in batch]).delete()
        PersonKey.objects.bulk_create(
            [PersonKey(petitioner_id=p.pk, key=key)
             for p in batch for key in person_keys(p.name, p.township_id, ring=ring)],
            ignore_conflicts=True)

    for model in ("ScreeningFinding", "BacklogCase"):
        Model = apps.get_model("registers", model)
        rows = Model.objects.only("id", "person_name").order_by("pk")
        changed = list(_changed(rows.iterator(chunk_size=BATCH), lambda r: r.person_name))
        for r in changed:
            r.name_index = name_index(r.person_name, ring=ring)
        Model.objects.bulk_update(changed, ["name_index"], batch_size=BATCH)


class Migration(migrations.Migration):

    dependencies = [
        ("matching", "0001_initial"),
        ("cases", "0049_case_township_received"),
        ("registers", "0006_backlog_open_by_office"),
    ]

    operations = [
        migrations.RunPython(reindex, migrations.RunPython.noop),
    ]
