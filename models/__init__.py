"""Sigap's data model: tables, the validated input model, and the database engine."""
from models.base import (  # noqa: F401
    COMPLAINT_KINDS,
    OPEN_STATUSES,
    RESPONDED_STATUSES,
    TERMINAL_STATUSES,
    Kind,
    Status,
    UTCDateTime,
    utcnow,
)
from models.inputs import ComplaintIn, ReporterIn  # noqa: F401
from models.tables import (  # noqa: F401
    Agency,
    Category,
    ChannelState,
    Complaint,
    ComplaintStatusEvent,
    DailyRollup,
    District,
    ImportRun,
    QuarantinedRecord,
    ReporterContact,
    RollupPending,
    RollupWatermark,
)
