"""Every feature's models, imported once so the app and Alembic see one metadata.

Features import each other's models directly; only start-up code and migrations import this module.
"""
from crm.accounts.models import User, user_zones
from crm.accounts.security_events import SecurityEvent
from crm.accounts.zones import Zone
from crm.api.models import ApiToken, api_token_zones
from crm.audit.models import AuditEntry
from crm.efficiency.models import EfficiencyFigures, EfficiencyMethod, EfficiencyResult
from crm.compliance.models import ComplianceAction, DevelopedArea, ProjectActual
from crm.catalog.models import Chain, EnterpriseSegment, Segment, SegmentLink
from crm.imports.models import ImportBatch, ImportUpload
from crm.jobs.models import Job, JobFile
from crm.land.models import LandAcceptance, Parcel, ProjectParcel
from crm.ledger.models import CapitalIncrease, FundsInPlace, ZoneSignoff, ZoneTarget
from crm.library.models import Contact, Enterprise, EnterpriseMerge, EnterpriseNote, EnterpriseSearchGram
from crm.pipeline.models import FirstReportConflict, Project, StageEvent, project_segments
from crm.submissions import FormSubmission
from crm.service.models import EnterpriseRequest, OfficerRating, ServiceAssignment, ZoneRequestSetting
from crm.visits.models import Visit

__all__ = [
    "ApiToken", "AuditEntry", "CapitalIncrease", "Chain", "ComplianceAction", "Contact", "DevelopedArea", "EfficiencyFigures",
    "EnterpriseRequest", "OfficerRating", "ServiceAssignment", "ZoneRequestSetting",
    "EfficiencyMethod", "EfficiencyResult", "Enterprise", "EnterpriseMerge", "EnterpriseNote", "LandAcceptance",
    "Parcel", "ProjectActual", "ProjectParcel",
    "EnterpriseSearchGram", "EnterpriseSegment",
    "FirstReportConflict", "FormSubmission", "FundsInPlace", "ImportBatch", "ImportUpload", "Job", "JobFile",
    "Project", "Segment", "SecurityEvent", "SegmentLink", "StageEvent", "User", "Visit", "Zone",
    "ZoneTarget", "api_token_zones", "project_segments", "user_zones",
]

# Summaries kept by session listeners: imported with the models so every session keeps them.
from crm.visits import last_visit  # noqa: E402,F401
from crm.library import search_index  # noqa: E402,F401
