"""autotrader: autonomous, model-driven crypto paper trading with an audit trail."""

__version__ = "0.1.0"
