"""The JSON API under ``/api/v1``: one router module per feature (see ``server.routers``)."""
