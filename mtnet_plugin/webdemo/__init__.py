"""The web page of ``tools/webdemo.py`` (optional extra: ``.[demo]``).
Importing this package does not import FastAPI; :func:`create_app` does."""
from .app import DATA_CREDIT, create_app, synthetic_examples

__all__ = ['DATA_CREDIT', 'create_app', 'synthetic_examples']
