"""Analysis code for the executable edition of *Evaluation of heroin-assisted treatment in Norway*.

The notebooks under ``book/`` stay thin: they load tidy data with :mod:`analysis.data.published`, call the
functions of the domain modules, show the result and glue the numbers into the text. Every function
takes tidy pandas frames and returns tidy frames or plain numbers; nothing here keeps state between
calls, except :func:`analysis.presentation.charts.enable`, which a page calls once to choose how charts render.
"""

__all__ = ["audit", "charts", "data", "oat_context"]
