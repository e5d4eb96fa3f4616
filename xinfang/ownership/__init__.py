"""Leader ownership (领导包案): who owns a hard case, and each of the profile's ownership
items (seed 000 §十一(四) "一个案件、一名领导、一套班子、一个方案、一抓到底"; seed 004
§二(四) "五包责任制") followed item by item — status, note, who, when, and the history of
every change.

The owner is chosen by the profile's warning rule (``owner_from``): the leader the office
linked to the case's village (联点村的区级领导, ``VillageLeader``), or the one holder of the
rule's role."""
