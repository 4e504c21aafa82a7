"""Layer 5, teaching: the primer's worked examples, which may use any layer."""
