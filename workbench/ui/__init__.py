"""Reusable dashboard parts (Panel): widgets generated from strategy parameter declarations and
state classes that dashboards and Voila notebooks compose. Panel is imported on first use."""

from workbench.ui.widgets import param_widgets, widget_values

__all__ = ["param_widgets", "widget_values"]
