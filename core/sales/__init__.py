"""Sales: pipelines of ordered stages with probabilities, deals moving through them, the forecast.

``pipelines`` is the admin side (pipelines, stages, their order and probabilities); ``deals``
keeps deals and their stage history; ``forecast`` sums open deals by stage and by month,
weighted by probability, and measures the sales cycle.
"""
