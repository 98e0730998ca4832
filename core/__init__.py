"""The CRM itself: models, store, rules (duplicates, rights, stages) and search."""
