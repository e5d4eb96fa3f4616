from .orders import SupervisionBulletin, SupervisionOrder, Verification
from .proxy import ProxyHandling
from .review import CaseReview, Rectification

__all__ = ["CaseReview", "ProxyHandling", "Rectification", "SupervisionBulletin",
           "SupervisionOrder", "Verification"]
