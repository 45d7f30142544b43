"""Bundled models and examples (installed as ``sigdae.assets``)."""
