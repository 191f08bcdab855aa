"""The dashboard's kept result (``selectors.kept_city``) is refreshed by ``core.refresh_kept``;
importing the selectors here registers it in a worker that loads the tasks."""

from gridmap.dashboard import selectors  # noqa: F401
