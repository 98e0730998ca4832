"""The hub: FastAPI REST API (/api/v1), web UI, feeds and the crmhub command line."""
