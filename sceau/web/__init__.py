"""The HTTP side of Sceau: the FastAPI app factory, its routes and dependencies."""
