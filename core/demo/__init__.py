"""Demo data: a realistic client base to try crmhub on (``crmhub demo``).

``plan`` builds the data deterministically from a seed; ``load`` writes it through the core
services, so the demo obeys every rule real data does (duplicates, rights, stages, audit);
``names`` is the vocabulary.
"""

from core.demo.load import DemoResult, load_demo
from core.demo.plan import DEFAULT_SEED, build_plan

__all__ = ["DEFAULT_SEED", "DemoResult", "build_plan", "load_demo"]
