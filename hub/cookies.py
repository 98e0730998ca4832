"""Names of the cookies the hub sets, in one place so the API and the web UI agree."""

SESSION_COOKIE = "crmhub_session"
CSRF_COOKIE = "crmhub_csrf"
