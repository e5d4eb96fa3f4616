"""``choices.label_of``: what ``get_FOO_display`` says, without its per-call cost."""

from django.utils import translation

from xinfang.cases import choices as c
from xinfang.cases.models import Case


def test_every_state_reads_as_the_models_display():
    for state in c.State:
        assert c.label_of(c.State, state.value) == Case(state=state.value).get_state_display()


def test_a_value_naming_no_choice_reads_as_itself():
    assert c.label_of(c.State, "no_such_state") == "no_such_state"
    assert c.label_of(c.State, None) == "None"


def test_labels_follow_the_active_language():
    """Kept per language: a label read under one language is not served under another."""
    with translation.override("zh-hans"):
        zh = c.label_of(c.Channel, c.Channel.VISIT.value)
    with translation.override("en"):
        assert c._labels(c.Channel, translation.get_language()) is not c._labels(
            c.Channel, "zh-hans")
        assert c.label_of(c.Channel, c.Channel.VISIT.value) == str(c.Channel.VISIT.label)
    assert zh == "来访"
