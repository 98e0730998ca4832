"""The sync engine: schedules work, claims it under leases, runs connectors, stores cursors, retries, pushes.

Start at ``worker.py`` (the loop), then ``runner.py`` (one job) and ``lease.py`` (why a killed or
slow worker can never lose or double a change).
"""
