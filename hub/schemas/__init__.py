"""API schemas (Create / Update / Read per entity); core models never leave through the API as they are."""
