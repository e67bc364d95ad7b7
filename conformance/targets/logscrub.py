"""Keep registered secrets out of log output, including botocore's and urllib3's DEBUG logs.

botocore logs whole request bodies (KeyStorePassword included) and signed
headers at DEBUG. A handler filter would miss handlers users add later, so
the log-record factory scrubs the rendered message of every record from the
libraries that see requests, once, for the whole process.
"""

from __future__ import annotations

import logging
import threading

from conformance.redact import scrub

SCRUBBED_LOGGERS = ("botocore", "boto3", "urllib3", "conformance", "moto", "werkzeug", "s3transfer")
_lock = threading.Lock()
_installed = False


def install_log_scrubbing() -> None:
    """Idempotent: wrap the record factory so secrets never reach any handler."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args, **kwargs):
            record = previous(*args, **kwargs)
            if record.name.split(".", 1)[0] in SCRUBBED_LOGGERS:
                try:
                    message = record.getMessage()
                except Exception:  # a malformed record: leave it to logging's own error path
                    return record
                record.msg, record.args = scrub(message), ()
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
