# SPDX-License-Identifier: MIT
"""A logging.Handler recording stdlib log records as messages of the current action."""
import logging

from . import _perflog


class PerflogHandler(logging.Handler):
    """Record each log record as a message ``"logging:<LEVEL>"`` of the current action.

    Fields: ``message`` (the formatted message), ``logger`` and, with an exception,
    ``exc_type``. Formatting errors go to ``handleError`` like any handler's.
    """

    def emit(self, record):
        if not _perflog.recording():
            return
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[0] is not None:
                exc = record.exc_info[0]
                _perflog.log(f"logging:{record.levelname}", message=message, logger=record.name,
                             exc_type=f"{exc.__module__}.{exc.__qualname__}")
            else:
                _perflog.log(f"logging:{record.levelname}", message=message, logger=record.name)
        except Exception:
            self.handleError(record)
