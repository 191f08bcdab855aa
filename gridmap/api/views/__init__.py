"""API views: thin wrappers that parse input, call a selector or a service, and render."""
