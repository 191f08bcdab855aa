"""The problem list page (``views``)."""
