"""Bundled data sets (installed as ``sigdae.datasets``)."""
