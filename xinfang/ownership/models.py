"""The village → leader link the office records, and the ownership items of a case."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class VillageLeader(models.Model):
    """联点村的区级领导 (seed 000 §十一(四)): the district leader the office linked to a village.
    A new link ends the previous one; none is ever deleted (``ended_at``)."""

    village = models.ForeignKey("org.Unit", verbose_name=_("村（社区）"),
                                on_delete=models.PROTECT, related_name="+")
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("联点领导"),
                               on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(_("登记时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("联点村领导")
        verbose_name_plural = _("联点村领导")
        constraints = [
            models.UniqueConstraint(fields=["village"], condition=Q(ended_at__isnull=True),
                                    name="one_current_leader_per_village"),
        ]

    def __str__(self) -> str:
        return f"{self.village_id}→{self.leader_id}"


class OwnershipItem(models.Model):
    """One ownership item of a case (包掌握情况 …), as the profile's rule names it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("未落实")
        DOING = "doing", _("落实中")
        DONE = "done", _("已落实")

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT,
                             related_name="ownership_items")
    rule = models.CharField(max_length=60)
    position = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(_("包案事项"), max_length=40)
    status = models.CharField(_("落实情况"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    note = models.TextField(_("说明"), blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(_("更新时间"), null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("包案事项")
        verbose_name_plural = _("包案事项")
        ordering = ["case_id", "position", "pk"]  # the id: "case" would join the cases
        constraints = [
            models.UniqueConstraint(fields=["case", "label"], name="ownership_item_once"),
        ]

    def __str__(self) -> str:
        return self.label


class OwnershipItemChange(models.Model):
    """Every change of an item, kept (the item holds the latest)."""

    item = models.ForeignKey(OwnershipItem, on_delete=models.PROTECT, related_name="changes")
    status = models.CharField(max_length=10, choices=OwnershipItem.Status.choices)
    note = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.status}"
