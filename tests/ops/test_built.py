"""``db.fixed.built``: a list's instances built as ``Model.from_db`` builds them, without
``Model.__init__`` walking every field — the same attributes, deferred fields and state, and
``from_db`` itself where a receiver of the init signals would miss its call."""

import pytest
from django.db.models.signals import post_init

from tests.conftest import register_in
from xinfang.cases.models import Case
from xinfang.db.fixed import built

pytestmark = pytest.mark.django_db
# in the model's order, as a queryset selects them (``from_db`` takes them so)
COLUMNS = tuple(f.attname for f in Case._meta.concrete_fields
                if f.attname in {"id", "number", "state", "township_id", "received_at"})


def _pair(case):
    values = list(Case.objects.filter(pk=case.pk).values_list(*COLUMNS).get())
    return built(Case, "default", COLUMNS, values), Case.from_db("default", COLUMNS, values)


def test_an_instance_built_is_the_one_from_db_builds(jianan):
    case = register_in(jianan)
    ours, django = _pair(case)
    assert type(ours) is Case
    assert {n: ours.__dict__[n] for n in COLUMNS} == {n: django.__dict__[n] for n in COLUMNS}
    assert ours.get_deferred_fields() == django.get_deferred_fields()
    assert (ours._state.adding, ours._state.db) == (False, "default")
    assert ours == django and hash(ours) == hash(django)
    # a related row and a deferred column are read when asked, as from from_db's
    assert ours.township == case.township
    assert ours.matter == case.matter
    ours.state = "proposed"
    ours.save(update_fields=["state"])  # a saved instance: an UPDATE of that column
    assert Case.objects.get(pk=case.pk).state == "proposed"


def test_a_receiver_of_the_init_signal_is_called_as_for_from_db(jianan):
    case = register_in(jianan)
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Case)
    try:
        ours, _django = _pair(case)
    finally:
        post_init.disconnect(receiver, sender=Case)
    assert ours in seen and len(seen) == 2
