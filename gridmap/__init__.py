"""gridmap: the Django project (settings, URLs and one app per part of the domain)."""
