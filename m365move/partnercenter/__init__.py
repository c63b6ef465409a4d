"""Partner Center "new commerce migrations" (DESIGN §6): an httpx client, its models and eligibility reasons."""

from m365move.partnercenter.client import MigrationRejected, PartnerCenterClient, PartnerCenterCredentials, RateLimited
from m365move.partnercenter.eligibility import eligibility_reason
from m365move.partnercenter.models import Eligibility, EligibilityError, Migration, MigrationStatus, NewMigration

__all__ = [
    "Eligibility",
    "EligibilityError",
    "Migration",
    "MigrationRejected",
    "MigrationStatus",
    "NewMigration",
    "PartnerCenterClient",
    "PartnerCenterCredentials",
    "RateLimited",
    "eligibility_reason",
]
