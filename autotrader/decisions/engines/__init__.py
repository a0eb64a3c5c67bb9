"""Decision engines: one interface (``Engine.decide``); adding an engine is adding one module
and one line in ``ENGINES``."""
