"""Long work off the request: jobs on a Huey queue, their state, progress and results in the database."""
