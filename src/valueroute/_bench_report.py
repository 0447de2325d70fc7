"""The bench report's functions under their former module name.

They live in :mod:`valueroute.bench._report`; this module only re-exports
them (it imports the bench, the bench never imports it).
"""

from __future__ import annotations

from valueroute.bench._report import (
    check_plotting,
    plot_scenario,
    report_html,
    scenario_table,
    wait_cdf,
    write_outputs,
)

__all__ = [
    "check_plotting",
    "plot_scenario",
    "report_html",
    "scenario_table",
    "wait_cdf",
    "write_outputs",
]
