"""The FastAPI application: API routers, error handlers, and (in ``serve``) the background worker."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from core.config import Settings, get_settings
from core.db import Database
from hub import errors, web
from hub.api import auth, clients, lists, records, sales, sync, transfer, users, work
from sync.worker import background_worker

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """Build the app for these settings (the database is opened from them unless given)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="crmhub",
        version="0.1.0",
        description="The CRM hub API. Authenticate with a personal API token: `Authorization: Bearer crm_...`.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lambda app: background_worker(app.state.db, enabled=app.state.settings.run_worker),
    )
    app.state.settings = settings
    app.state.db = db or Database(settings.effective_database_url)
    errors.install(app)

    api = APIRouter(prefix=API_PREFIX)

    @api.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness: answers without authentication."""
        return {"status": "ok"}

    for module in (auth, users, clients, work, sales, sync, lists, records, transfer):
        api.include_router(module.router)
    app.include_router(api)
    web.install(app)
    return app
