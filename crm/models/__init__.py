"""All models, imported here so Alembic and the app see one metadata."""
from crm.models.audit import AuditEntry
from crm.models.chain import Chain, EnterpriseSegment, Segment, SegmentLink
from crm.models.enterprise import Contact, Enterprise
from crm.models.first_report import EnterpriseMerge, FirstReportConflict
from crm.models.funds import FundsInPlace
from crm.models.ledger import CapitalIncrease, ImportBatch, ZoneTarget
from crm.models.submission import FormSubmission
from crm.models.project import Project, StageEvent, project_segments
from crm.models.security_log import SecurityEvent
from crm.models.user import User, user_zones
from crm.models.visit import Visit
from crm.models.zone import Zone

__all__ = [
    "AuditEntry", "CapitalIncrease", "Chain", "Contact", "Enterprise", "EnterpriseMerge", "EnterpriseSegment",
    "FirstReportConflict", "FormSubmission", "FundsInPlace", "ImportBatch",
    "Project", "Segment", "SecurityEvent", "SegmentLink", "StageEvent", "User", "Visit", "Zone",
    "ZoneTarget", "project_segments", "user_zones",
]
