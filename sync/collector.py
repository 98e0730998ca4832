"""CPython's garbage collector set for the engine's processes: start-up objects frozen, young ones collected less often.

The cyclic collector runs a young collection every 700 net allocations of container objects
and, every so often, a full collection that walks every tracked object. A worker or a
reading process holds 100,000-140,000 objects from its imports (SQLAlchemy's mappers, the
stdlib's email package, the connectors) that never become garbage, while an import
allocates millions of short-lived ones (parsed responses, records, rows, statements). On
an import of 20,000 messages the collector took 0.6 s of the reading process's 4.2 s of
CPU and 0.3 s of the worker's.

``settle`` collects once, then moves every object left to the permanent generation
(``gc.freeze``), so full collections no longer walk them, and raises the young
generation's threshold to ``YOUNG_THRESHOLD``, so a batch's garbage is looked at in a few
dozen passes instead of a thousand. Nearly all of an import's garbage is freed by
reference counting anyway; cycles (SQLAlchemy's sessions and states) are still collected,
a little later. Objects created after ``settle`` are collected as usual.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000
"""Net allocations of container objects between two young collections (CPython's default is 700)."""


def settle() -> None:
    """Freeze what this process holds now (it lives as long as the process) and collect young objects less often."""
    gc.collect()
    gc.freeze()
    young, older, oldest = gc.get_threshold()
    if young:  # 0: whoever runs us turned automatic collection off; leave it so
        gc.set_threshold(max(YOUNG_THRESHOLD, young), older, oldest)
