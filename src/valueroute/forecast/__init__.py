"""Forecasting interval volumes from a log of arrivals, and fitting handle times and patience.

A workforce plan starts from a forecast: how many contacts of each type will
arrive in each interval of the coming days, and how long they will take.
This module turns history into that forecast, in the one format that both
the Erlang tools and the simulator read.

- :class:`ArrivalLog`: arrivals as day, second of day, task type and
  (where known) handle time; from :func:`valueroute.datasets.load_anonymous_bank`
  (:meth:`ArrivalLog.from_calls`) or a generic CSV of timestamps with an
  optional type column (:func:`read_arrivals_csv`).
- :func:`day_kinds`: regular days, closed days (a
  :class:`~valueroute.calendar.BusinessCalendar` with no open time), public
  holidays, minor holidays and eves of public holidays (from the
  ``holidays`` package, e.g. ``holidays={"country": "IL"}``).
- :func:`forecast_volumes`: volumes per day, interval and task type for a
  future period, with prediction intervals, by one of three models:

  - ``"seasonal_naive"``: each weekday as the mean of the same weekday over
    the last ``weeks`` weeks;
  - ``"profile"``: a daily volume (level, trend, weekday and position in
    the month, fitted on log daily totals by weighted ridge regression)
    times a weekday × interval profile;
  - ``"holt_winters"``: the daily volume by Holt–Winters exponential
    smoothing (statsmodels, the ``planning`` extra), times the same profile.

  Days that are not regular are forecast as the mean of the training days of
  their kind (see :func:`forecast_volumes`).
- :class:`IntervalForecast`: the result, with :meth:`~IntervalForecast.to_erlang`
  (a :class:`valueroute.erlang.Forecast`, which ``staff_intervals`` and
  :func:`valueroute.sim.planning.scenario_from_forecast` read),
  :meth:`~IntervalForecast.to_profiles` (simulator arrival profiles),
  :meth:`~IntervalForecast.write_forecast_csv` (the CSV ``valueroute staff``
  reads) and :meth:`~IntervalForecast.to_pandas`.
- :func:`fit_handle_times` (handle-time distributions per task type and band
  of the day) and :func:`fit_patience` (Kaplan–Meier per task type), from a
  training period only.

Prediction intervals come from drawing each day's volume from the model's
uncertainty about it (a lognormal whose spread is measured on the training
data's own out-of-sample errors, or Holt–Winters' simulated paths), then each
interval's count as a Poisson count around that day's profile, with extra
interval-to-interval variation (gamma) measured on the training days. All
randomness comes from ``numpy.random.default_rng(seed)``: same inputs, same
forecast.
"""

from valueroute.forecast._fit import HandleTimeFit, fit_handle_times, fit_patience
from valueroute.forecast._log import DAY_KINDS, ArrivalLog, day_kinds, read_arrivals_csv
from valueroute.forecast._models import MODELS, Model, forecast_volumes
from valueroute.forecast._result import IntervalForecast

__all__ = [
    "DAY_KINDS",
    "MODELS",
    "ArrivalLog",
    "HandleTimeFit",
    "IntervalForecast",
    "Model",
    "day_kinds",
    "fit_handle_times",
    "fit_patience",
    "forecast_volumes",
    "read_arrivals_csv",
]
