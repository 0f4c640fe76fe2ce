"""Business operations. No request, no session, no templates: routes and the CLI call these."""
