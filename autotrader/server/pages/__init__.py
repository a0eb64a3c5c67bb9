"""The dashboard: server-rendered pages (Jinja2) over the same read services as the API."""
