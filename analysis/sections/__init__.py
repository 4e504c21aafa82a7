"""Layer 4, the report's sections: one module per section or appendix, each computing its statistics from the
cohort with the layers below and returning them as tidy frames for its page to glue in one call."""
