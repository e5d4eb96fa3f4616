"""The paired A/B of one change (bench/paired.py): each call with the change beside one without,
alternating which goes first, the attribute put back at the end."""

from bench.paired import paired, swap


class Thing:
    def work(self) -> str:
        return "done"


class Child(Thing):
    pass


def replacement(self) -> str:
    return "other"


def test_pairs_alternate_and_the_difference_is_the_changes():
    # given a clock that a call moves by 3 without the change and by 2 with it
    now, state, order = [0.0], ["off"], []
    on, off = (lambda: state.__setitem__(0, "on")), (lambda: state.__setitem__(0, "off"))

    def call():
        order.append(state[0])
        now[0] += 2 if state[0] == "on" else 3

    got = paired(call, on=on, off=off, pairs=4, clock=lambda: now[0])
    assert order == ["off", "on", "on", "off", "off", "on", "on", "off"]
    assert (got.without, got.with_, got.difference, got.won) == (3, 2, -1, 4)
    assert state[0] == "off"  # left as it was found


def test_a_swap_puts_the_replacement_in_and_the_original_back():
    on, off = swap(f"{__name__}:Thing.work={__name__}:replacement")
    on()
    assert Thing().work() == "other"
    off()
    assert Thing().work() == "done" and Thing.__dict__["work"].__name__ == "work"
    on, off = swap(f"{__name__}:Child.work=noop")  # inherited: taken out again, not copied
    on()
    assert Child().work() is None and Thing().work() == "done"
    off()
    assert "work" not in Child.__dict__ and Child().work() == "done"
