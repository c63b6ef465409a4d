"""Commerce: the SimpleAPI 1.15 client and what is read through it. The public surface is ``__all__``."""

from m365move.commerce.credentials import CommerceCredentials, load_credentials
from m365move.commerce.errors import CommerceApiError, CommerceNotFound, CommerceUnavailable, OrderPlacementUncertain
from m365move.commerce.models import (
    CustomerInfo,
    OrderInfo,
    OrderRequest,
    PlanInfo,
    PlanSwitch,
    ProductQuantity,
    ResellerInfo,
    SubscriptionInfo,
)
from m365move.commerce.rate_limiter import RateLimiter
from m365move.commerce.retry_policy import RetryPolicy
from m365move.commerce.simpleapi_client import ClientStats, SimpleApiClient

__all__ = [
    "ClientStats",
    "CommerceApiError",
    "CommerceCredentials",
    "CommerceNotFound",
    "CommerceUnavailable",
    "CustomerInfo",
    "OrderInfo",
    "OrderPlacementUncertain",
    "OrderRequest",
    "PlanInfo",
    "PlanSwitch",
    "ProductQuantity",
    "RateLimiter",
    "ResellerInfo",
    "RetryPolicy",
    "SimpleApiClient",
    "SubscriptionInfo",
    "load_credentials",
]
