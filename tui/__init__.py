"""Terminal UI (installed as ``sigdae.tui``)."""
